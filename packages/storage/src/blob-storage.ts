import type { Readable } from 'node:stream';

export type StorageDriver = 'local' | 's3';

export interface PutOptions {
  /**
   * Checked against the type derived from the key's extension; a mismatch is refused
   * (STORAGE_ERR_WRITE) because the blob would later be served with the wrong type.
   */
  contentType?: string;
}

export interface BlobInfo {
  bytes: number;
  contentType: string;
}

export interface BlobStream extends BlobInfo {
  stream: Readable;
}

/** Keys are validated with `assertValidKey`; content types follow the key's extension. */
export interface BlobStorage {
  readonly driver: StorageDriver;
  /** Atomic: readers see the old blob or the new one, never a partial file. */
  put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<{ key: string; bytes: number }>;
  /** undefined when there is no blob under `key`. */
  get(key: string): Promise<{ bytes: Uint8Array; contentType: string } | undefined>;
  stat(key: string): Promise<BlobInfo | undefined>;
  /** Opens the blob for serving; size and type describe the opened file. undefined when absent. */
  createReadStream(key: string): Promise<BlobStream | undefined>;
  /** true when a blob was removed, false when there was none. */
  delete(key: string): Promise<boolean>;
  /**
   * A URL the object store itself serves `key` from for `ttlSeconds` (S3: a presigned GET).
   * Absent for stores that cannot serve bytes (local disk): the API serves those behind its own
   * HMAC-signed `/v1/files/…` URLs instead (see `createFileUrls`).
   */
  presignGet?(key: string, ttlSeconds: number): Promise<string>;
  /**
   * Start-up check: throws one line naming the variable at fault (a missing bucket, refused
   * credentials), so a misconfigured process stops before it accepts work.
   */
  check(): Promise<void>;
}
