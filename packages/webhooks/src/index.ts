export {
  attemptDelivery,
  type BlockedOutcome,
  DELIVERY_TIMEOUT_MS,
  type DeliveredOutcome,
  type DeliveryAttempt,
  type DeliveryOutcome,
  type GoneOutcome,
  type RetryOutcome,
} from './delivery.js';
export { newWebhookMessageId, WEBHOOK_MESSAGE_ID_PATTERN } from './message-id.js';
export { OUTBOUND_ERROR_CODES, type OutboundErrorCode, OutboundRequestError } from './outbound-error.js';
export {
  type FetchPinnedInit,
  type FetchPinnedResult,
  fetchPinned,
  type PinnedTarget,
  type PostPinnedInit,
  type PostPinnedResult,
  postPinned,
  RESPONSE_SNIPPET_BYTES,
} from './pinned-request.js';
export {
  DELIVERY_JITTER,
  DELIVERY_MAX_ATTEMPTS,
  DELIVERY_SCHEDULE_MS,
  type NextDeliveryDelayOptions,
  nextDeliveryDelayMs,
  RETRY_AFTER_CAP_FACTOR,
} from './schedule.js';
export {
  generateWebhookSecret,
  type SignedHeaders,
  type SignedHeadersInput,
  signedHeaders,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SECRET_PREFIX,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  WebhookSecretError,
  webhookSignature,
} from './signing.js';
export {
  type CheckedUrl,
  type CheckUrlOptions,
  checkUrl,
  type RefusedUrl,
  type Resolve,
  type ResolvedAddress,
  systemResolve,
  type UrlCheck,
} from './ssrf-guard.js';
