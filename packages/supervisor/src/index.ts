export { describeExit, type ExitInfo, type TrackedChild, trackChild } from './child-exit.js';
export { onProcessExit } from './exit-hooks.js';
export { findExecutable, findRedisServerBinary } from './find-executable.js';
export { getFreePort } from './free-port.js';
export {
  createLineBuffer,
  formatTail,
  type LineBuffer,
  type LineListener,
  type OutputStream,
  pipeLines,
} from './line-buffer.js';
export { type RedisAddress, type RedisReply, RedisReplyError, redisCommand } from './redis-command.js';
export { probeRedis, type RedisProbe } from './redis-probe.js';
export {
  type RedisServer,
  RedisServerNotFoundError,
  type RedisServerOptions,
  startRedisServer,
} from './redis-server.js';
export { findRepoRoot, repoRoot } from './repo-root.js';
export {
  builtEntry,
  type Service,
  type ServiceRuntime,
  ServiceStartError,
  type SpawnServiceOptions,
  serviceNodeArgs,
  spawnService,
  tsNodeArgs,
} from './spawn-service.js';
export { type WaitForOptions, WaitForTimeoutError, waitFor } from './wait-for.js';
export type { ServiceReadiness } from './wait-until-ready.js';
