/** Webhook event types (DESIGN §7). `job.started` is sent only when a request asks for it. */
export const WEBHOOK_EVENT_TYPES = [
  'job.started',
  'job.succeeded',
  'job.failed',
  'job.canceled',
  'batch.completed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a job sends when `webhook_events` is not given: every terminal event. */
export const DEFAULT_JOB_WEBHOOK_EVENTS: readonly WebhookEventType[] = [
  'job.succeeded',
  'job.failed',
  'job.canceled',
];

export const isWebhookEventType = (value: unknown): value is WebhookEventType =>
  typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

/** Where and what a job reports. */
export interface JobWebhook {
  url: string;
  events: WebhookEventType[];
}
