export type { BlobInfo, BlobStorage, BlobStream, PutOptions, StorageDriver } from './blob-storage.js';
export { contentTypeForKey, DEFAULT_CONTENT_TYPE } from './content-type.js';
export { STORAGE_ERROR_CODES, StorageError, type StorageErrorCode, StorageKeyError } from './errors.js';
export { assertValidId, assertValidKey, inputKey, outputKey, uploadKey } from './keys.js';
export { createLocalStorage, type LocalStorageOptions } from './local-storage.js';
export { createUrlSigner, type UrlSigner, type UrlSignerOptions, type VerifyResult } from './url-signer.js';
