export {
  checkRedisModes,
  checkStorageEnv,
  envBool,
  envFilesSigningSecret,
  envFileUrlTtlS,
  envList,
  envLogLevel,
  envRedisNodes,
  envRedisUrl,
  envStorageFields,
  envUrlAllowList,
  parseEnv,
} from './env.js';
export {
  type CreateLoggerOptions,
  createLogger,
  createStringScrubber,
  type Logger,
  REDACTED,
  REDACTED_PATHS,
  scrubLogString,
  scrubLogValue,
} from './logger.js';
export { createScriptRunner, type LuaScript, type ScriptHost, type ScriptRunner } from './lua-scripts.js';
export { parseRetryAfterMs } from './retry-after.js';
export { createSeededRandom, type RandomSource } from './seeded-random.js';
export { sleep } from './sleep.js';
