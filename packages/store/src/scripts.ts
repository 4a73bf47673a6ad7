import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The package's Lua scripts, each in `src/lua/<name>.lua` with its KEYS and ARGV documented
 * at its top (as BullMQ's `src/commands/*.lua`), read once per process and defined on a client
 * as a command of its own (ioredis sends EVALSHA, and the source once when Redis lacks it).
 */
const SCRIPTS = {
  idempotencyReplace: { file: 'idempotency-replace', keys: 1 },
  requestLogTake: { file: 'request-log-take', keys: 1 },
  spendReserve: { file: 'spend-reserve', keys: 1 },
  spendRelease: { file: 'spend-release', keys: 1 },
} as const;

type ScriptName = keyof typeof SCRIPTS;

const sources = new Map<ScriptName, string>();
const sourceOf = (name: ScriptName) => {
  let source = sources.get(name);
  if (source === undefined) {
    source = readFileSync(new URL(`./lua/${SCRIPTS[name].file}.lua`, import.meta.url), 'utf8');
    sources.set(name, source);
  }
  return source;
};

/** Command names on the client: prefixed, so they cannot clash with another package's. */
const commandOf = (name: ScriptName) => `fluxqStore_${name}`;

/** Runs script `name` on `redis` (defined on that client the first time). */
export function runScript<T>(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<T> {
  const command = commandOf(name);
  if (!(command in redis))
    redis.defineCommand(command, { numberOfKeys: SCRIPTS[name].keys, lua: sourceOf(name) });
  const call = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<T>>)[command]!;
  return call.call(redis, ...keys, ...args);
}
