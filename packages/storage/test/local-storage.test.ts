import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BlobStorage, createLocalStorage, StorageError, StorageKeyError } from '../src/index.js';

let rootDir: string;
let storage: BlobStorage;

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(tmpdir(), 'fluxq-storage-'));
  storage = createLocalStorage({ rootDir });
});

afterEach(async () => {
  await rm(rootDir, { recursive: true, force: true });
});

const bytesOf = (s: string) => new TextEncoder().encode(s);

/** Every file under `dir`, relative, recursively. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('local storage', () => {
  it('round-trips bytes and creates directories', async () => {
    const key = 'outputs/t1/job-1/0.png';
    expect(await storage.put(key, bytesOf('png-bytes'), { contentType: 'image/png' })).toEqual({
      key,
      bytes: 9,
    });
    expect(await storage.get(key)).toEqual({ bytes: bytesOf('png-bytes'), contentType: 'image/png' });
    expect(await storage.stat(key)).toEqual({ bytes: 9, contentType: 'image/png' });
    expect(await listFiles(rootDir)).toEqual([path.join('outputs', 't1', 'job-1', '0.png')]);
  });

  it('overwrites an existing blob', async () => {
    await storage.put('a/b.json', bytesOf('{"v":1}'));
    await storage.put('a/b.json', bytesOf('{"v":2}'));
    expect(new TextDecoder().decode((await storage.get('a/b.json'))!.bytes)).toBe('{"v":2}');
  });

  it('returns undefined for absent blobs and for keys that name a directory', async () => {
    await storage.put('a/b/c.png', bytesOf('x'));
    for (const key of ['missing.png', 'a/b', 'a/b/c.png/d']) {
      expect(await storage.get(key)).toBeUndefined();
      expect(await storage.stat(key)).toBeUndefined();
      expect(await storage.createReadStream(key)).toBeUndefined();
      expect(await storage.delete(key)).toBe(false);
    }
  });

  it('streams a blob with its size and type', async () => {
    await storage.put('x/y.jsonl', bytesOf('{"a":1}\n'));
    const opened = await storage.createReadStream('x/y.jsonl');
    expect(opened).toMatchObject({ bytes: 8, contentType: 'application/jsonl' });
    expect(await text(opened!.stream)).toBe('{"a":1}\n');
  });

  it('deletes a blob', async () => {
    await storage.put('d/e.gif', bytesOf('g'));
    expect(await storage.delete('d/e.gif')).toBe(true);
    expect(await storage.get('d/e.gif')).toBeUndefined();
  });

  it('refuses a content type that contradicts the extension', async () => {
    await expect(storage.put('a.png', bytesOf('x'), { contentType: 'image/jpeg' })).rejects.toMatchObject({
      code: 'STORAGE_ERR_WRITE',
    });
    await expect(
      storage.put('a.png', bytesOf('x'), { contentType: 'IMAGE/PNG; x=1' }),
    ).resolves.toBeDefined();
  });

  it('reports a failed write as STORAGE_ERR_WRITE and leaves no temp file', async () => {
    // A file where a directory must go makes mkdir fail.
    await writeFile(path.join(rootDir, 'blocker'), 'x');
    const err = await storage.put('blocker/a.png', bytesOf('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ name: 'StorageError', code: 'STORAGE_ERR_WRITE', key: 'blocker/a.png' });
    expect(await listFiles(rootDir)).toEqual(['blocker']);
  });

  describe('when many writers race on one key', () => {
    it('ends with exactly one complete content and no temp files; readers never see a torn file', async () => {
      const size = 256 * 1024;
      const key = 'race/blob.png';
      const contents = Array.from({ length: 16 }, (_, i) => new Uint8Array(size).fill(i + 1));
      let reading = true;
      const reader = (async () => {
        while (reading) {
          const blob = await storage.get(key);
          if (!blob) continue;
          expect(blob.bytes.byteLength).toBe(size);
          const first = blob.bytes[0]!;
          expect(blob.bytes.every((b) => b === first)).toBe(true);
        }
      })();
      await Promise.all(contents.map((c) => storage.put(key, c)));
      reading = false;
      await reader;

      const final = (await storage.get(key))!.bytes;
      expect(final.byteLength).toBe(size);
      expect(final.every((b) => b === final[0])).toBe(true);
      expect(await listFiles(rootDir)).toEqual([path.join('race', 'blob.png')]);
    });
  });

  describe('when the key is unsafe', () => {
    it.each([
      ['parent traversal', '../etc/passwd'],
      ['traversal in the middle', 'outputs/../../secret.png'],
      ['a trailing parent segment', 'outputs/..'],
      ['a dot segment', './a.png'],
      ['an absolute path', '/etc/passwd'],
      ['a backslash', 'outputs\\..\\a.png'],
      ['a Windows drive', 'C:/Windows/a.png'],
      ['a NUL byte', 'a.png\0.jpg'],
      ['an empty segment', 'outputs//a.png'],
      ['a trailing slash', 'outputs/a/'],
      ['percent-encoded traversal', '%2e%2e/secret.png'],
      ['percent-encoded slash', 'outputs%2f..%2fa.png'],
      ['a hidden (temp-file) name', 'outputs/.a.png.tmp'],
      ['an empty key', ''],
      ['whitespace', 'outputs/a b.png'],
      ['a newline', 'a.png\nb'],
      ['a non-ASCII look-alike', 'outputs/\u2024\u2024/a.png'],
    ])('refuses %s', async (_label, key) => {
      const ops = [
        storage.put(key, bytesOf('x')),
        storage.get(key),
        storage.stat(key),
        storage.createReadStream(key),
        storage.delete(key),
      ];
      for (const op of ops) {
        const err = await op.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StorageKeyError);
        expect(err).toMatchObject({ name: 'StorageKeyError', code: 'STORAGE_ERR_INVALID_KEY' });
      }
      expect(await listFiles(rootDir)).toEqual([]);
    });
  });
});
