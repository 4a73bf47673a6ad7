/**
 * Local-disk BlobStorage. Writes go to a hidden temp file in the target directory and are
 * renamed into place: rename within one directory is atomic, so readers never see a torn
 * file and concurrent writers to one key end with exactly one complete blob.
 */

import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { BlobStorage, BlobStream, PutOptions } from './blob-storage.js';
import { blobContentType, contentTypeForKey } from './content-type.js';
import { STORAGE_ERROR_CODES, StorageError, StorageKeyError } from './errors.js';
import { assertValidKey } from './keys.js';

export interface LocalStorageOptions {
  /** Directory that holds every blob; created on first write. */
  rootDir: string;
  /**
   * fsync each file before renaming it, so a crash cannot leave a renamed but empty blob.
   * @defaultValue true
   */
  fsync?: boolean;
}

/** Errors that mean "no blob here" rather than "the disk failed". */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

function isAbsent(err: unknown): boolean {
  return ABSENT.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

export function createLocalStorage(options: LocalStorageOptions): BlobStorage {
  const root = path.resolve(options.rootDir);
  const fsync = options.fsync ?? true;

  function fileFor(key: string): string {
    assertValidKey(key);
    const file = path.resolve(root, ...key.split('/'));
    // Second line of defence after the allow-list: the path must stay under the root.
    if (!file.startsWith(root + path.sep))
      throw new StorageKeyError('Storage key escapes the storage root', key);
    return file;
  }

  const readError = (key: string, err: unknown) =>
    new StorageError(STORAGE_ERROR_CODES.READ, `Could not read blob "${key}"`, { key, cause: err });

  return {
    driver: 'local',

    // Nothing to check: the root is created on first write, and a bad path fails that write.
    async check() {},

    async put(key: string, bytes: Uint8Array, { contentType }: PutOptions = {}) {
      const file = fileFor(key);
      blobContentType(key, contentType);
      const dir = path.dirname(file);
      const temp = path.join(dir, `.${path.basename(file)}.${randomUUID()}.tmp`);
      try {
        await mkdir(dir, { recursive: true });
        const handle = await open(temp, 'wx');
        try {
          await handle.writeFile(bytes);
          if (fsync) await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } catch (err) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw new StorageError(STORAGE_ERROR_CODES.WRITE, `Could not write blob "${key}"`, {
          key,
          cause: err,
        });
      }
      return { key, bytes: bytes.byteLength };
    },

    async get(key: string) {
      const file = fileFor(key);
      try {
        const buf = await readFile(file);
        return {
          bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
          contentType: contentTypeForKey(key),
        };
      } catch (err) {
        if (isAbsent(err)) return undefined;
        throw readError(key, err);
      }
    },

    async stat(key: string) {
      const file = fileFor(key);
      try {
        const info = await stat(file);
        return info.isFile() ? { bytes: info.size, contentType: contentTypeForKey(key) } : undefined;
      } catch (err) {
        if (isAbsent(err)) return undefined;
        throw readError(key, err);
      }
    },

    async createReadStream(key: string): Promise<BlobStream | undefined> {
      const file = fileFor(key);
      let handle: Awaited<ReturnType<typeof open>> | undefined;
      try {
        // Size comes from the opened descriptor, so it matches the bytes streamed even if a put renames over the key meanwhile.
        handle = await open(file, 'r');
        const info = await handle.stat();
        if (!info.isFile()) {
          await handle.close();
          return undefined;
        }
        return { stream: handle.createReadStream(), bytes: info.size, contentType: contentTypeForKey(key) };
      } catch (err) {
        await handle?.close().catch(() => undefined);
        if (isAbsent(err)) return undefined;
        throw readError(key, err);
      }
    },

    async delete(key: string) {
      const file = fileFor(key);
      try {
        await unlink(file);
        return true;
      } catch (err) {
        if (isAbsent(err) || (err as NodeJS.ErrnoException).code === 'EPERM') {
          // EPERM/EISDIR: the key names a directory, which is not a blob.
          const info = await stat(file).catch(() => undefined);
          if (!info?.isFile()) return false;
        }
        throw new StorageError(STORAGE_ERROR_CODES.WRITE, `Could not delete blob "${key}"`, {
          key,
          cause: err,
        });
      }
    },
  };
}
