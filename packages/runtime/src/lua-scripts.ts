import { readFileSync } from 'node:fs';

/** What a script runner needs of a Redis client (ioredis's `Redis` and `Cluster` both fit). */
export interface ScriptHost {
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
}

export interface LuaScript {
  /** The `.lua` file, as `new URL('./lua/<name>.lua', import.meta.url)` names it next to the module. */
  file: URL;
  /**
   * Files of shared Lua functions put before it, in order (each documents at its top which of the
   * including script's KEYS and ARGV it uses): Lua has no `require` inside Redis, so one copy of a
   * function several scripts call is joined into each.
   */
  include?: readonly URL[];
  /** How many KEYS it takes; omitted = the caller passes the count first (a variable number of keys). */
  keys?: number;
}

export type ScriptRunner<Name extends string> = <T>(
  redis: ScriptHost,
  name: Name,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<T>;

/**
 * Runs a package's Lua scripts, each a `.lua` file with its KEYS and ARGV documented at its top
 * (as BullMQ's `src/commands/*.lua`). Each file is read once per process, on first use, and
 * defined on a client the first time that client runs it, as a command named `<prefix>_<name>`
 * (ioredis sends EVALSHA, and the source only when Redis lacks it). The prefix keeps packages'
 * command names apart on a shared connection.
 */
export function createScriptRunner<Name extends string>(
  prefix: string,
  scripts: Record<Name, LuaScript>,
): ScriptRunner<Name> {
  const sources = new Map<Name, string>();
  const sourceOf = (name: Name) => {
    let source = sources.get(name);
    if (source === undefined) {
      const { file, include = [] } = scripts[name];
      source = [...include, file].map((part) => readFileSync(part, 'utf8')).join('\n');
      sources.set(name, source);
    }
    return source;
  };
  return <T>(
    redis: ScriptHost,
    name: Name,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<T> => {
    const command = `${prefix}_${name}`;
    const numberOfKeys = scripts[name].keys;
    if (!(command in redis)) {
      redis.defineCommand(command, {
        ...(numberOfKeys === undefined ? {} : { numberOfKeys }),
        lua: sourceOf(name),
      });
    }
    const call = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<T>>)[command]!;
    return numberOfKeys === undefined
      ? call.call(redis, keys.length, ...keys, ...args)
      : call.call(redis, ...keys, ...args);
  };
}
