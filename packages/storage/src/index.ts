export type { BlobInfo, BlobStorage, BlobStream, PutOptions, StorageDriver } from './blob-storage.js';
export { contentTypeForKey, DEFAULT_CONTENT_TYPE } from './content-type.js';
export { createStorage, openStorage, type StorageConfig } from './create-storage.js';
export { STORAGE_ERROR_CODES, StorageError, type StorageErrorCode, StorageKeyError } from './errors.js';
export { createFileUrls, type FileUrls } from './file-urls.js';
export { assertValidId, assertValidKey, inputKey, outputKey, uploadKey } from './keys.js';
export { createLocalStorage, type LocalStorageOptions } from './local-storage.js';
export {
  type RetentionSweeper,
  type SweepOptions,
  type SweepResult,
  startRetentionSweep,
  sweepExpiredBlobs,
} from './retention-sweep.js';
export { createS3Storage, normalizePrefix, type S3StorageOptions } from './s3-storage.js';
export { createUrlSigner, type UrlSigner, type UrlSignerOptions, type VerifyResult } from './url-signer.js';
