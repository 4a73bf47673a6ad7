/**
 * Retention for the local driver (`OUTPUT_RETENTION_DAYS`): deletes blobs under `outputs/`,
 * `inputs/` and `uploads/` whose last write is older than the retention, and the directories
 * that leaves empty. S3 buckets do this with a lifecycle rule instead (README "Storage").
 *
 * Cheap by design: one directory walk and one lstat per file, run hourly by the workers;
 * several workers sweeping one disk at once only race to unlink the same files, which is
 * harmless (a file already gone is skipped). Crash leftovers of the atomic writes (hidden
 * `.*.tmp` files) go after a day whatever the retention.
 */

import type { Dirent } from 'node:fs';
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';

/** The top-level folders keys live in (keys.ts); nothing else under the root is touched. */
const SWEPT = ['outputs', 'inputs', 'uploads'] as const;
const TEMP_FILE = /^\..+\.tmp$/;
const TEMP_MAX_AGE_MS = 24 * 3_600_000;

export interface SweepOptions {
  rootDir: string;
  /** Blobs last written longer ago than this are deleted. Unit: milliseconds. */
  maxAgeMs: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

export interface SweepResult {
  scanned: number;
  deleted: number;
}

const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function sweepDir(dir: string, cutoffs: { blob: number; temp: number }, result: SweepResult) {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (gone(err)) return;
    throw err;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await sweepDir(full, cutoffs, result);
      // Only succeeds when empty: a concurrent put that just created the directory keeps it.
      await rmdir(full).catch(() => undefined);
      continue;
    }
    if (!entry.isFile()) continue;
    result.scanned += 1;
    const info = await lstat(full).catch((err: unknown) => (gone(err) ? undefined : Promise.reject(err)));
    if (!info) continue;
    const cutoff = TEMP_FILE.test(entry.name) ? cutoffs.temp : cutoffs.blob;
    if (info.mtimeMs >= cutoff) continue;
    try {
      await unlink(full);
      result.deleted += 1;
    } catch (err) {
      if (!gone(err)) throw err;
    }
  }
}

export async function sweepExpiredBlobs({
  rootDir,
  maxAgeMs,
  now = Date.now,
}: SweepOptions): Promise<SweepResult> {
  const at = now();
  const cutoffs = { blob: at - maxAgeMs, temp: at - Math.min(maxAgeMs, TEMP_MAX_AGE_MS) };
  const result: SweepResult = { scanned: 0, deleted: 0 };
  for (const top of SWEPT) await sweepDir(path.join(path.resolve(rootDir), top), cutoffs, result);
  return result;
}

export interface RetentionSweeper {
  stop(): void;
}

/** Sweeps now and then every `intervalMs`; the timer does not keep the process alive. */
export function startRetentionSweep(
  options: SweepOptions & {
    intervalMs?: number;
    onSwept?: (result: SweepResult) => void;
    onError?: (err: unknown) => void;
  },
): RetentionSweeper {
  const intervalMs = options.intervalMs ?? 3_600_000;
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      options.onSwept?.(await sweepExpiredBlobs(options));
    } catch (err) {
      options.onError?.(err);
    } finally {
      running = false;
    }
  };
  void run();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
