import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Absolute path of an executable: `name` itself when it contains a slash, else the first
 * match on `searchPath` (a PATH-style list). `undefined` when there is none.
 */
export function findExecutable(
  name: string,
  searchPath: string = process.env.PATH ?? '',
): string | undefined {
  if (name.includes('/')) return isExecutableFile(name) ? resolve(name) : undefined;
  for (const dir of searchPath.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The `redis-server` to run: `REDIS_SERVER_BIN` when set, else the one on PATH. */
export function findRedisServerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env.REDIS_SERVER_BIN?.trim();
  return findExecutable(configured || 'redis-server', env.PATH ?? '');
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
