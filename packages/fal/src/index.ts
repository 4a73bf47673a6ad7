export { createFalQueueClient, type FalCallOptions, type FalQueueClient } from './client.js';
export { type FalEndpointId, parseEndpointId } from './endpoint.js';
export { FAL_ERROR_CODES, type FalErrorCode, falErrorCodeOf } from './error-codes.js';
export { type FalErrorFromResponseOptions, falErrorFromResponse } from './error-from-response.js';
export {
  FalAuthError,
  FalContentFilteredError,
  FalError,
  type FalErrorDetail,
  type FalErrorInit,
  FalNotFoundError,
  type FalOperation,
  FalProtocolError,
  FalRateLimitedError,
  FalTransientError,
  FalTransportError,
  FalUserTimeoutError,
  FalValidationError,
  type FalValidationErrorInfo,
  isFalError,
} from './errors.js';
export {
  buildPriorityHeaders,
  buildTimeoutHeaders,
  ERROR_TYPE_HEADER,
  type FalQueuePriority,
  MIN_REQUEST_TIMEOUT_S,
  QUEUE_PRIORITY_HEADER,
  REQUEST_ID_HEADER,
  REQUEST_TIMEOUT_HEADER,
  REQUEST_TIMEOUT_TYPE_HEADER,
  RETRYABLE_HEADER,
} from './headers.js';
export { createNodeHttpFetch, type NodeHttpFetch, type NodeHttpFetchOptions } from './node-http-fetch.js';
export type { FalQueueClientOptions, FalQueueTimeouts } from './options.js';
export { type BackoffOptions, isRetryableRead, readRetryStepMs } from './retry.js';
export type {
  FalCancelOutcome,
  FalDownload,
  FalDownloadOptions,
  FalImageFile,
  FalImageOutput,
  FalLogEntry,
  FalResult,
  FalStatusResult,
  FalSubmitOptions,
  FalSubmitResult,
  FalUploadOptions,
} from './types.js';
export {
  createFalWebhookVerifier,
  FAL_JWKS_UNAVAILABLE,
  FAL_JWKS_URL,
  FAL_WEBHOOK_HEADERS,
  type FalWebhookVerdict,
  type FalWebhookVerifier,
  type FalWebhookVerifierOptions,
} from './webhook-verifier.js';
