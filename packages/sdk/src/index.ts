export { createClient, FluxqClient } from './client.js';
export {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  FluxqAPIError,
  FluxqClientError,
  FluxqConnectionError,
  type FluxqErrorKind,
  FluxqTimeoutError,
  InternalServerError,
  NotFoundError,
  PayloadTooLargeError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  UnsupportedMediaTypeError,
} from './errors.js';
export type { ClientOptions, FetchLike, RequestOptions } from './http.js';
export type { Batches } from './resources/batches.js';
export type { Images, ImagesCallOptions } from './resources/images.js';
export type { CreateOptions, Jobs, WaitOptions } from './resources/jobs.js';
export type { UploadCreateOptions, Uploads } from './resources/uploads.js';
export type { WebhookDeliveries, Webhooks } from './resources/webhooks.js';
export * from './types.js';
export {
  DEFAULT_WEBHOOK_TOLERANCE_S,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
} from './verify-webhook.js';
export { SDK_VERSION } from './version.js';
export type { WebhookEvent, WebhookEventType } from './webhook-event.js';
export { WebhookVerificationError, type WebhookVerificationFailure } from './webhook-verification-error.js';
