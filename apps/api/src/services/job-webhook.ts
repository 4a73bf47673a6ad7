import {
  DEFAULT_JOB_WEBHOOK_EVENTS,
  FluxqError,
  isWebhookEventType,
  type JobWebhook,
  type WebhookEventType,
} from '@fluxq/core';
import { checkUrl } from '@fluxq/webhooks';
import type { ApiDeps } from '../deps.js';
import { refusedNow } from './job-inputs.js';

const MAX_URL_LENGTH = 2_048;
const JOB_EVENTS: readonly WebhookEventType[] = [
  'job.started',
  'job.succeeded',
  'job.failed',
  'job.canceled',
];

/**
 * `webhook_url` and `webhook_events` of a job request. The URL is resolved and refused now
 * when it points at a private, loopback, link-local or metadata address (unless
 * allow-listed) or names a host that does not exist, so a bad URL is a 400 at submit
 * rather than a silent failure later; only a resolver failure lets it through. The worker
 * checks it again at every delivery (DNS may have changed).
 */
export async function parseJobWebhook(
  body: Record<string, unknown>,
  deps: ApiDeps,
): Promise<JobWebhook | null> {
  const { webhook_url: url, webhook_events: events } = body;
  if (url === undefined || url === null) {
    if (events !== undefined && events !== null) {
      throw new FluxqError('invalid_parameter', 'webhook_events needs a webhook_url', {
        param: 'webhook_events',
      });
    }
    return null;
  }
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_URL_LENGTH) {
    throw new FluxqError(
      'invalid_webhook_url',
      `webhook_url must be a URL of at most ${MAX_URL_LENGTH} characters`,
      {
        param: 'webhook_url',
      },
    );
  }
  // The cheap checks first: a bad event list needs no DNS lookup to be refused.
  const parsedEvents = parseEvents(events);
  const checked = await checkUrl(url, { allow: deps.webhooks.allow, resolve: deps.webhooks.resolve });
  if (refusedNow(checked)) {
    throw new FluxqError('invalid_webhook_url', `webhook_url is not allowed: ${checked.reason}`, {
      param: 'webhook_url',
    });
  }
  return { url, events: parsedEvents };
}

function parseEvents(value: unknown): WebhookEventType[] {
  if (value === undefined || value === null) return [...DEFAULT_JOB_WEBHOOK_EVENTS];
  if (!Array.isArray(value) || value.length === 0) {
    throw new FluxqError(
      'invalid_parameter',
      `webhook_events must be a non-empty list of ${JOB_EVENTS.join(', ')}`,
      {
        param: 'webhook_events',
      },
    );
  }
  for (const item of value) {
    if (!isWebhookEventType(item) || !JOB_EVENTS.includes(item)) {
      throw new FluxqError(
        'invalid_parameter',
        `webhook_events: unknown event ${JSON.stringify(item)}; a job sends ${JOB_EVENTS.join(', ')}`,
        { param: 'webhook_events' },
      );
    }
  }
  return [...new Set(value as WebhookEventType[])];
}
