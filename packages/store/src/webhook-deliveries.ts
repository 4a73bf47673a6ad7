import type { JobRecord, WebhookEventType } from '@fluxq/core';
import type { Redis } from 'ioredis';
import type { BatchView } from './batch-store.js';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One try at delivering an event: what the receiver answered, or why there was no answer. */
export interface DeliveryAttempt {
  /** Unix seconds. */
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/**
 * One event for one endpoint, with its delivery log. `event_id` is the `webhook-id`
 * header: the same on every attempt and on a resend, so receivers can drop duplicates.
 */
export interface WebhookDelivery {
  id: string;
  tenant: string;
  event_id: string;
  type: WebhookEventType;
  job_id: string | null;
  url: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  /** Unix seconds. */
  created_at: number;
  created_ms: number;
  /** When the next attempt is due (unix seconds), while pending. */
  next_attempt_at: number | null;
  completed_at: number | null;
  /** Why a delivery stopped without success (schedule exhausted, endpoint gone, address refused). */
  failure_reason: string | null;
  /** Times it was sent again by hand (`resend`, `recover`). */
  resends: number;
  /** Attempts in the current round (the retry schedule starts again on a resend). */
  step: number;
  /** The job as it was when the event happened; shown (with fresh file URLs) in the body. Null for batch events. */
  snapshot: JobRecord | null;
  /** `batch.completed`: the batch as it was when it finished (the body's `data`). */
  batch?: BatchView;
}

export type DeliveryPatch = Partial<Omit<WebhookDelivery, 'id' | 'tenant' | 'event_id' | 'created_ms'>>;

/** Deliveries are kept this long. */
const RETENTION_S = 30 * 24 * 3_600;

const keys = recordKeys.webhookDelivery;

/** Ids of a batch's event (`batch.completed`), derived like a job's: emitting it twice is one delivery. */
export function batchDeliveryIdsFor(
  batchId: string,
  type: WebhookEventType,
): { id: string; eventId: string } {
  const suffix = `${batchId.replace(/^batch_/, '')}_${type.replace('.', '_')}`;
  return { id: `whd_${suffix}`, eventId: `msg_${suffix}` };
}

/** Ids derived from the job and event, so emitting an event twice (after a crash) is one delivery. */
export function deliveryIdsFor(jobId: string, type: WebhookEventType): { id: string; eventId: string } {
  const suffix = `${jobId.replace(/^job_/, '')}_${type.replace(/^job\./, '').replace('.', '_')}`;
  return { id: `whd_${suffix}`, eventId: `msg_${suffix}` };
}

export const DELIVERY_ID_PATTERN = /^whd_[0-9a-z]+_[a-z_]+$/;

function encode(patch: object): string[] {
  return Object.entries(patch).flatMap(([field, value]) =>
    value === undefined ? [] : [field, JSON.stringify(value)],
  );
}

function decode(fields: Record<string, string>): WebhookDelivery | undefined {
  if (!fields.status) return undefined;
  return Object.fromEntries(
    Object.entries(fields).map(([field, value]) => [field, JSON.parse(value)]),
  ) as WebhookDelivery;
}

export interface DeliveryQuery {
  tenant: string;
  jobId?: string;
  status?: DeliveryStatus;
  /** Only deliveries created at or after this (ms). */
  sinceMs?: number;
  limit: number;
  /** Continue after this delivery id (newest first). */
  after?: string;
}

export interface WebhookDeliveryStore {
  /** Creates the delivery unless it exists; true when created. */
  createIfAbsent(delivery: WebhookDelivery): Promise<boolean>;
  get(id: string): Promise<WebhookDelivery | undefined>;
  update(id: string, patch: DeliveryPatch): Promise<void>;
  /** Appends one attempt to the log and applies `patch` in the same round trip. */
  recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    patch: DeliveryPatch,
  ): Promise<WebhookDelivery | undefined>;
  /** Newest first; `hasMore` when more match beyond `limit`. */
  list(query: DeliveryQuery): Promise<{ data: WebhookDelivery[]; hasMore: boolean }>;
}

/** At most this many index entries are read for one page with a filter. */
const SCAN_LIMIT = 1_000;

export function createWebhookDeliveryStore(redis: Redis): WebhookDeliveryStore {
  const store: WebhookDeliveryStore = {
    async createIfAbsent(delivery) {
      const created = await runScript<number>(
        redis,
        'webhookDeliveryCreate',
        [keys.delivery(delivery.id), keys.tenant(delivery.tenant), keys.job(delivery.job_id ?? '')],
        [delivery.id, String(delivery.created_ms), String(RETENTION_S), ...encode(delivery)],
      );
      return created === 1;
    },
    async get(id) {
      return decode(await redis.hgetall(keys.delivery(id)));
    },
    async update(id, patch) {
      const args = encode(patch);
      if (args.length > 0) await redis.hset(keys.delivery(id), ...args);
    },
    async recordAttempt(id, attempt, patch) {
      const current = await store.get(id);
      if (!current) return undefined;
      const next = { ...current, ...patch, attempts: [...current.attempts, attempt] };
      await store.update(id, { ...patch, attempts: next.attempts });
      return next;
    },
    async list(query) {
      let ids: string[];
      if (query.jobId) {
        ids = await redis.smembers(keys.job(query.jobId));
      } else {
        ids = await redis.zrevrangebyscore(
          keys.tenant(query.tenant),
          '+inf',
          query.sinceMs ?? '-inf',
          'LIMIT',
          0,
          SCAN_LIMIT,
        );
      }
      const all = (await Promise.all(ids.map((id) => store.get(id)))).filter(
        (d): d is WebhookDelivery =>
          d !== undefined &&
          d.tenant === query.tenant &&
          (query.status === undefined || d.status === query.status) &&
          (query.sinceMs === undefined || d.created_ms >= query.sinceMs),
      );
      all.sort((a, b) => b.created_ms - a.created_ms || (a.id < b.id ? 1 : -1));
      const start = query.after ? all.findIndex((d) => d.id === query.after) + 1 : 0;
      const page = all.slice(start, start + query.limit);
      return { data: page, hasMore: start + query.limit < all.length };
    },
  };
  return store;
}
