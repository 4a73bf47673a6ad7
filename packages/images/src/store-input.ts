import type { StoredInput } from '@fluxq/core';
import { type BlobStorage, inputKey } from '@fluxq/storage';
import { type InputLimits, prepareInputImage } from './prepare-input.js';

export interface StoreInputOptions {
  storage: BlobStorage;
  tenant: string;
  jobId: string;
  /** Position of the image among the job's inputs. */
  index: number;
  limits: InputLimits;
}

/**
 * Checks an input image (see `prepareInputImage`) and stores it as
 * `inputs/{tenant}/{job}/{index}.{ext}`, so the API (data URIs) and the worker
 * (URL inputs) keep inputs the same way.
 */
export async function storeInputImage(
  bytes: Uint8Array,
  { storage, tenant, jobId, index, limits }: StoreInputOptions,
): Promise<Extract<StoredInput, { kind: 'stored' }>> {
  const prepared = await prepareInputImage(bytes, limits, 'images');
  const key = inputKey(tenant, jobId, index, prepared.format === 'jpeg' ? 'jpg' : prepared.format);
  await storage.put(key, prepared.bytes, { contentType: prepared.contentType });
  return {
    kind: 'stored',
    key,
    width: prepared.width,
    height: prepared.height,
    content_type: prepared.contentType,
    bytes: prepared.bytes.length,
  };
}
