export {
  DEFAULT_WEBHOOK_TOLERANCE_S,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
} from './verify-webhook.js';
export type { WebhookEvent, WebhookEventType } from './webhook-event.js';
export { WebhookVerificationError, type WebhookVerificationFailure } from './webhook-verification-error.js';
