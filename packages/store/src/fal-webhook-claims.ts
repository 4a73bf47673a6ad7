import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';

/**
 * Claims of fal's completion webhooks, one string per fal request: fal redelivers a webhook
 * until it gets a 2xx, so the API handles each request's webhook once (the announcement to
 * the workers is @fluxq/queue's `createFalWebhookInbox`).
 */

/** The dedupe key of one fal request's webhook. */
export const falWebhookKey = recordKeys.falWebhook;

/**
 * True the first time it is called for `requestId` within `ttlS` (SET NX EX), false for
 * fal's redeliveries of the same webhook. Default TTL: fal retries for 2 h.
 */
export async function claimFalWebhook(redis: Redis, requestId: string, ttlS = 7_200): Promise<boolean> {
  return (await redis.set(falWebhookKey(requestId), String(Date.now()), 'EX', ttlS, 'NX')) === 'OK';
}

/** Undoes a claim whose processing failed, so fal's next redelivery is handled. */
export async function releaseFalWebhook(redis: Redis, requestId: string): Promise<void> {
  await redis.del(falWebhookKey(requestId));
}
