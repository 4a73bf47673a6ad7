/**
 * The one place that decides what URL a client gets for a stored file: the object store's
 * own presigned URL when the driver has one (S3: the store serves the bytes), else the API's
 * HMAC-signed `/v1/files/…` URL (local disk: the API serves them).
 */

import type { BlobStorage } from './blob-storage.js';
import type { UrlSigner } from './url-signer.js';

export interface FileUrls {
  /** An expiring URL for `key`, valid `ttlSeconds`. */
  url(key: string, ttlSeconds: number): Promise<string>;
}

export function createFileUrls(storage: Pick<BlobStorage, 'presignGet'>, signer: UrlSigner): FileUrls {
  const presign = storage.presignGet;
  if (presign) return { url: (key, ttlSeconds) => presign(key, ttlSeconds) };
  return { url: async (key, ttlSeconds) => signer.sign(key, ttlSeconds) };
}
