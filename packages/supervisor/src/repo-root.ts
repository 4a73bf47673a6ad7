import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from `from` to the first directory that holds `turbo.json`: the monorepo root. */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'turbo.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no turbo.json in ${from} or above it: cannot find the fluxq repository root`);
    dir = parent;
  }
}

/** Absolute path of the monorepo root (the directory with `turbo.json`). */
export const repoRoot: string = findRepoRoot();
