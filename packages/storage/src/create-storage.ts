/**
 * Picks the storage driver from configuration (`STORAGE_DRIVER`), so the API and the workers
 * build the same store from the same variables.
 */

import type { BlobStorage } from './blob-storage.js';
import { createLocalStorage } from './local-storage.js';
import { createS3Storage, type S3StorageOptions } from './s3-storage.js';

/** The storage variables, as the apps' zod schemas parse them (README "Storage"). */
export interface StorageConfig {
  STORAGE_DRIVER: 'local' | 's3';
  STORAGE_DIR: string;
  S3_BUCKET?: string;
  S3_ENDPOINT?: string;
  S3_PUBLIC_ENDPOINT?: string;
  S3_REGION?: string;
  S3_FORCE_PATH_STYLE?: boolean;
  S3_PREFIX?: string;
}

export function createStorage(
  config: StorageConfig,
  extra: Pick<S3StorageOptions, 'credentials' | 'client' | 'multipartBytes'> = {},
): BlobStorage {
  if (config.STORAGE_DRIVER === 'local') return createLocalStorage({ rootDir: config.STORAGE_DIR });
  if (!config.S3_BUCKET) throw new Error('S3_BUCKET: is required when STORAGE_DRIVER=s3');
  return createS3Storage({
    ...extra,
    bucket: config.S3_BUCKET,
    endpoint: config.S3_ENDPOINT,
    publicEndpoint: config.S3_PUBLIC_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    prefix: config.S3_PREFIX,
  });
}

/** `createStorage` plus its start-up check: resolves only with a store that answered. */
export async function openStorage(config: StorageConfig): Promise<BlobStorage> {
  const storage = createStorage(config);
  await storage.check();
  return storage;
}
