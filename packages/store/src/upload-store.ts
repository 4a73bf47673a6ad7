import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';

/**
 * An uploaded reference image (`upl_…`). The bytes live in blob storage under `key`
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

export interface UploadStore {
  /** Records an upload; Redis drops it after `ttlS` seconds. */
  save(record: UploadRecord, ttlS: number): Promise<void>;
  /** The upload `id` of `tenant`; undefined when it does not exist, expired or is another tenant's (alike to callers). */
  find(id: string, tenant: string): Promise<UploadRecord | undefined>;
}

export function createUploadStore(redis: Redis): UploadStore {
  return {
    async save(record, ttlS) {
      await redis.set(recordKeys.upload(record.id), JSON.stringify(record), 'EX', ttlS);
    },
    async find(id, tenant) {
      const json = await redis.get(recordKeys.upload(id));
      if (json === null) return undefined;
      const record = JSON.parse(json) as UploadRecord;
      return record.tenant === tenant ? record : undefined;
    },
  };
}
