import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadState, newState, STATE_FILE, StateStore, writeFileAtomic } from '../src/state.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fluxq-cli-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('state file', () => {
  it('round-trips through save and load', async () => {
    const state = newState({ prompt: 'autumn', format: 'webp', n: 2, size: '512x512' });
    state.items['a.png'] = { file: '/in/a.png', name: 'a', size: 10, mtimeMs: 1.5, uploadId: 'upl_1' };
    state.items['b.png'] = { file: '/in/b.png', name: 'b', size: 20, mtimeMs: 2 };
    state.batchId = 'batch_1';
    state.downloaded.push('a.png');
    const store = new StateStore(dir, state);
    await store.save();
    expect(await loadState(dir)).toEqual(state);
    expect(await readdir(dir)).toEqual([STATE_FILE]);
  });

  it('keeps the latest of many concurrent saves, and no temporary files', async () => {
    const state = newState({ prompt: 'p', format: 'png', n: 1 });
    const store = new StateStore(dir, state);
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      state.downloaded.push(`f${i}`);
      saves.push(store.save());
    }
    await Promise.all(saves);
    expect((await loadState(dir))?.downloaded).toHaveLength(20);
    expect(await readdir(dir)).toEqual([STATE_FILE]);
  });

  it('is undefined when absent and an error when not ours', async () => {
    expect(await loadState(dir)).toBeUndefined();
    await writeFile(join(dir, STATE_FILE), '{not json');
    await expect(loadState(dir)).rejects.toThrow(/not valid JSON/);
    await writeFile(join(dir, STATE_FILE), '{"version": 99}');
    await expect(loadState(dir)).rejects.toThrow(/not a fluxq state file/);
  });

  it('writeFileAtomic replaces a file whole', async () => {
    const path = join(dir, 'x.bin');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, new Uint8Array([116, 119, 111]));
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['x.bin']);
  });
});
