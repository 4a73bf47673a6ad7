import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalStorage, sweepExpiredBlobs } from '../src/index.js';

const DAY_MS = 86_400_000;
let rootDir: string;

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(tmpdir(), 'fluxq-sweep-'));
});
afterEach(async () => {
  await rm(rootDir, { recursive: true, force: true });
});

/** Sets a file's modification time to `daysAgo` days before now. */
async function age(key: string, daysAgo: number) {
  const when = new Date(Date.now() - daysAgo * DAY_MS);
  await utimes(path.join(rootDir, key), when, when);
}

async function listFiles(): Promise<string[]> {
  const entries = await readdir(rootDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(rootDir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('local retention sweep', () => {
  it('deletes outputs, inputs and uploads older than the retention, keeps newer ones', async () => {
    const storage = createLocalStorage({ rootDir, fsync: false });
    const bytes = new Uint8Array([1, 2, 3]);
    const keys = {
      oldOutput: 'outputs/t1/job-old/0.png',
      oldInput: 'inputs/t1/job-old/0.png',
      oldUpload: 'uploads/t1/upl_old.png',
      freshOutput: 'outputs/t1/job-new/0.png',
      freshUpload: 'uploads/t1/upl_new.png',
    };
    for (const key of Object.values(keys)) await storage.put(key, bytes);
    await age(keys.oldOutput, 31);
    await age(keys.oldInput, 40);
    await age(keys.oldUpload, 30.5);
    await age(keys.freshOutput, 29);
    // Not a key folder: never touched, however old.
    await writeFile(path.join(rootDir, 'README.txt'), 'operator notes');
    await age('README.txt', 400);

    const result = await sweepExpiredBlobs({ rootDir, maxAgeMs: 30 * DAY_MS });
    expect(result).toEqual({ scanned: 5, deleted: 3 });
    expect(await listFiles()).toEqual(['README.txt', keys.freshOutput, keys.freshUpload].sort());
    // The emptied job directory went with its files; the other stays.
    expect(await readdir(path.join(rootDir, 'outputs/t1'))).toEqual(['job-new']);
    expect(await storage.get(keys.oldOutput)).toBeUndefined();
    expect(await storage.get(keys.freshOutput)).toBeDefined();
  });

  it('removes crash leftovers of atomic writes after a day, and copes with a missing root', async () => {
    await mkdir(path.join(rootDir, 'outputs/t1/j'), { recursive: true });
    await writeFile(path.join(rootDir, 'outputs/t1/j/.0.png.abc.tmp'), 'partial');
    await age('outputs/t1/j/.0.png.abc.tmp', 2);
    expect(await sweepExpiredBlobs({ rootDir, maxAgeMs: 30 * DAY_MS })).toEqual({ scanned: 1, deleted: 1 });
    expect(await sweepExpiredBlobs({ rootDir: path.join(rootDir, 'absent'), maxAgeMs: DAY_MS })).toEqual({
      scanned: 0,
      deleted: 0,
    });
  });
});
