/** Event types fluxq sends; the open tail keeps new types from breaking a receiver's build. */
export type WebhookEventType =
  | 'job.succeeded'
  | 'job.failed'
  | 'job.canceled'
  | 'job.started'
  | 'batch.completed'
  | (string & {});

/**
 * The body of every fluxq webhook (Standard Webhooks `{type, timestamp, data}`). `data`
 * is `unknown` on purpose: the signature proves who sent it, not its shape; switch on
 * `type` and validate `data` before trusting its fields.
 */
export interface WebhookEvent {
  type: WebhookEventType;
  /** When the event happened, ISO 8601. */
  timestamp: string;
  data: unknown;
}
