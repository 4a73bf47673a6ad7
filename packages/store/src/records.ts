import type { Redis } from 'ioredis';
import { createIdempotencyStore, type IdempotencyStore } from './idempotency-store.js';
import { createRequestLog, type RequestLog } from './request-log.js';
import { createSpendLedger, type SpendLedger } from './spend-ledger.js';
import { createUploadStore, type UploadStore } from './upload-store.js';

/** Every store of this package on one connection: what the API's handlers get instead of Redis. */
export interface Records {
  uploads: UploadStore;
  idempotency: IdempotencyStore;
  /** The rate limit's per-tenant request logs. */
  requestLog: RequestLog;
  /** Daily spend per tenant (the spend cap and `GET /v1/usage`). */
  spend: SpendLedger;
}

export function createRecords(redis: Redis): Records {
  return {
    uploads: createUploadStore(redis),
    idempotency: createIdempotencyStore(redis),
    requestLog: createRequestLog(redis),
    spend: createSpendLedger(redis),
  };
}
