import { UPLOAD_ID_PATTERN } from '@fluxq/core';
import { storeKeys } from '@fluxq/queue';
import type { Redis } from 'ioredis';

/**
 * An uploaded reference image (`upl_…`). The bytes live in storage under `key`
 * (checked and prepared once, at upload); this record lives in Redis until `expires_at`
 * and lets any number of jobs point at the same stored file.
 */
export interface UploadRecord {
  id: string;
  tenant: string;
  /** Storage key of the prepared image (`uploads/{tenant}/{id}.{ext}`). */
  key: string;
  width: number;
  height: number;
  content_type: string;
  bytes: number;
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds; the record is gone from Redis after this. */
  expires_at: number;
}

/** Records an upload; Redis drops it after `ttlS` seconds. */
export async function saveUpload(redis: Redis, record: UploadRecord, ttlS: number): Promise<void> {
  await redis.set(storeKeys.upload(record.id), JSON.stringify(record), 'EX', ttlS);
}

/**
 * The upload `id` of `tenant`, or undefined when it does not exist, has expired or
 * belongs to another tenant (all three look the same to the caller).
 */
export async function findUpload(
  redis: Redis,
  id: string,
  tenant: string,
): Promise<UploadRecord | undefined> {
  if (!UPLOAD_ID_PATTERN.test(id)) return undefined;
  const json = await redis.get(storeKeys.upload(id));
  if (json === null) return undefined;
  const record = JSON.parse(json) as UploadRecord;
  return record.tenant === tenant ? record : undefined;
}

/** An upload as the API shows it (tenant and storage key stay internal). */
export function viewUpload(record: UploadRecord) {
  return {
    id: record.id,
    object: 'upload' as const,
    width: record.width,
    height: record.height,
    content_type: record.content_type,
    bytes: record.bytes,
    created_at: record.created_at,
    expires_at: record.expires_at,
  };
}
