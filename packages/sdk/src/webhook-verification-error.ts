/** Why a webhook failed verification, for logs and metrics (the message says it in words). */
export type WebhookVerificationFailure =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_body';

/**
 * The request is not a genuine, fresh fluxq webhook: answer it with 400 and drop it.
 * Check `name`/`code` as well as `instanceof` when it crosses package copies.
 */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly code = 'WEBHOOK_ERR_SIGNATURE';

  constructor(
    readonly reason: WebhookVerificationFailure,
    message: string,
  ) {
    super(message);
  }
}
