export { createIdempotencyStore, type IdempotencyStore } from './idempotency-store.js';
export { recordKeys } from './keys.js';
export { createRecords, type Records } from './records.js';
export { createRequestLog, type RequestLog, type RequestLogDecision } from './request-log.js';
export { createSpendLedger, type SpendLedger } from './spend-ledger.js';
export { createUploadStore, type UploadRecord, type UploadStore } from './upload-store.js';
