import type { JobStatus, Priority } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * The batch store (DESIGN §5, Batches): one hash per batch with its status and counts,
 * the batch's jobs in line order, a `custom_id → job id` map, and a per-tenant index for
 * listing. Counts move only through `recordOutcome`, a Lua script keyed by the job id:
 * a job's terminal outcome is counted once (a set member), however often it is reported
 * (re-runs, retries, the API and a worker racing), and the call whose count finishes the
 * batch is the one told so, which makes `batch.completed` a single event.
 */

export type BatchStatus = 'validating' | 'in_progress' | 'completed' | 'cancelling' | 'cancelled';

export interface BatchRecord {
  id: string;
  tenant: string;
  status: BatchStatus;
  priority: Priority;
  total: number;
  succeeded: number;
  failed: number;
  canceled: number;
  /** Cost of the succeeded jobs so far, integer micro-USD. */
  cost_micros: number;
  /** Unix seconds. */
  created_at: number;
  completed_at: number | null;
  created_ms: number;
  metadata: Record<string, string>;
  /** Where `batch.completed` goes; null = no webhook. */
  webhook_url: string | null;
}

/** A batch as the API (and the `batch.completed` webhook body) shows it. */
export interface BatchView {
  id: string;
  object: 'batch';
  status: BatchStatus;
  request_counts: { total: number; succeeded: number; failed: number; canceled: number };
  cost: { usd: number };
  created_at: number;
  completed_at: number | null;
  /** While in progress: when its last job should be done (unix seconds); null when over or unknown. */
  estimated_completed_at: number | null;
  metadata: Record<string, string>;
  webhook_url: string | null;
}

export function viewBatch(batch: BatchRecord, estimatedCompletedAt: number | null = null): BatchView {
  return {
    id: batch.id,
    object: 'batch',
    status: batch.status,
    request_counts: {
      total: batch.total,
      succeeded: batch.succeeded,
      failed: batch.failed,
      canceled: batch.canceled,
    },
    cost: { usd: batch.cost_micros / 1_000_000 },
    created_at: batch.created_at,
    completed_at: batch.completed_at,
    estimated_completed_at: estimatedCompletedAt,
    metadata: batch.metadata,
    webhook_url: batch.webhook_url,
  };
}

/** One request of a batch: its job and the client's `custom_id`. */
export interface BatchLine {
  jobId: string;
  customId: string;
}

export const BATCH_ID_PATTERN = /^batch_[0-9a-z]{25}$/;

export const batchKeys = recordKeys.batch;

/** Batches are kept as long as jobs. @defaultValue 30 days */
const DEFAULT_RETENTION_S = 30 * 24 * 3_600;
/** Entries per pipeline when writing a batch's lines. */
const WRITE_CHUNK = 1_000;

export type BatchOutcome = Extract<JobStatus, 'succeeded' | 'failed' | 'canceled'>;
/** The transition a call made, if any: the caller that gets one emits its event. */
export type BatchTransition = 'completed' | 'cancelled' | null;

const transitionOf = (value: string): BatchTransition =>
  value === 'completed' || value === 'cancelled' ? value : null;

function encode(batch: BatchRecord): string[] {
  return [
    'tenant',
    batch.tenant,
    'status',
    batch.status,
    'priority',
    batch.priority,
    'total',
    String(batch.total),
    'succeeded',
    String(batch.succeeded),
    'failed',
    String(batch.failed),
    'canceled',
    String(batch.canceled),
    'cost_micros',
    String(batch.cost_micros),
    'created_at',
    String(batch.created_at),
    'completed_at',
    batch.completed_at === null ? '' : String(batch.completed_at),
    'created_ms',
    String(batch.created_ms),
    'metadata',
    JSON.stringify(batch.metadata),
    'webhook_url',
    batch.webhook_url ?? '',
  ];
}

function decode(id: string, fields: Record<string, string>): BatchRecord | undefined {
  if (!fields.status || !fields.tenant) return undefined;
  return {
    id,
    tenant: fields.tenant,
    status: fields.status as BatchStatus,
    priority: (fields.priority ?? 'bulk') as Priority,
    total: Number(fields.total ?? 0),
    succeeded: Number(fields.succeeded ?? 0),
    failed: Number(fields.failed ?? 0),
    canceled: Number(fields.canceled ?? 0),
    cost_micros: Number(fields.cost_micros ?? 0),
    created_at: Number(fields.created_at ?? 0),
    completed_at: fields.completed_at ? Number(fields.completed_at) : null,
    created_ms: Number(fields.created_ms ?? 0),
    metadata: fields.metadata ? (JSON.parse(fields.metadata) as Record<string, string>) : {},
    webhook_url: fields.webhook_url ? fields.webhook_url : null,
  };
}

const parseLine = (entry: string): BatchLine => {
  const space = entry.indexOf(' ');
  return { jobId: entry.slice(0, space), customId: entry.slice(space + 1) };
};

export interface BatchStore {
  /** Writes the batch (status `validating`), its lines and its custom_id map, in chunks. */
  create(batch: BatchRecord, lines: readonly BatchLine[]): Promise<void>;
  get(id: string): Promise<BatchRecord | undefined>;
  /** `count` lines from `start` (0-based), in line order. */
  lines(id: string, start: number, count: number): Promise<BatchLine[]>;
  /** The job of a `custom_id`. */
  jobOf(id: string, customId: string): Promise<string | undefined>;
  /**
   * Counts a job's terminal outcome once. `counted` is false when it already was (or the
   * batch is gone); `transition` is set for the one call that finished the batch.
   */
  recordOutcome(
    batchId: string,
    jobId: string,
    outcome: BatchOutcome,
    costMicros: number,
  ): Promise<{ counted: boolean; transition: BatchTransition }>;
  /** `validating` → `in_progress` once every job is enqueued (or `completed` if all finished). */
  markInProgress(id: string): Promise<BatchTransition>;
  /**
   * Counts many jobs' `outcome` at once (not `succeeded`: no cost), each once; the
   * transition is set when this call finished the batch.
   */
  recordOutcomes(
    batchId: string,
    jobIds: readonly string[],
    outcome: Exclude<BatchOutcome, 'succeeded'>,
  ): Promise<BatchTransition>;
  /**
   * `in_progress` → `cancelling` (or `cancelled`); returns the status after. A batch moved to
   * `cancelling` is listed among the batches whose jobs must be canceled (`cancelPending`).
   */
  markCancelling(id: string): Promise<{ status: BatchStatus | undefined; transition: BatchTransition }>;
  /** Batches whose jobs are still to be canceled, oldest cancel first. */
  cancelPending(count: number): Promise<string[]>;
  /** The batch's jobs are all canceled (or finished): take it off the pending list. */
  cancelDone(id: string): Promise<void>;
  /**
   * Takes (or renews, when `holder` has it) the lease on cancelling a batch's jobs, for
   * `ms`; false when another process holds it. A process that dies lets it lapse.
   */
  leaseCancel(id: string, holder: string, ms: number): Promise<boolean>;
  /** Ids of the tenant's batches, newest first, after the id `after`. */
  listIds(tenant: string, after: string | undefined, count: number): Promise<string[]>;
  getMany(ids: readonly string[]): Promise<Array<BatchRecord | undefined>>;
  /** Removes a batch that was never accepted. */
  delete(id: string, tenant: string): Promise<void>;
}

export function createBatchStore(
  redis: Redis,
  options: { retentionS?: number; now?: () => number } = {},
): BatchStore {
  const retentionS = options.retentionS ?? DEFAULT_RETENTION_S;
  const nowS = () => String(Math.floor((options.now ?? Date.now)() / 1000));
  const keysOf = (id: string) => [batchKeys.batch(id), batchKeys.counted(id)] as const;

  const store: BatchStore = {
    async create(batch, lines) {
      const { id } = batch;
      for (let start = 0; start < lines.length; start += WRITE_CHUNK) {
        const chunk = lines.slice(start, start + WRITE_CHUNK);
        const custom: string[] = [];
        for (const line of chunk) custom.push(line.customId, line.jobId);
        await redis
          .pipeline()
          .rpush(batchKeys.lines(id), ...chunk.map((line) => `${line.jobId} ${line.customId}`))
          .hset(batchKeys.customIds(id), ...custom)
          .exec();
      }
      await redis
        .multi()
        .hset(batchKeys.batch(id), ...encode(batch))
        .expire(batchKeys.batch(id), retentionS)
        .expire(batchKeys.lines(id), retentionS)
        .expire(batchKeys.customIds(id), retentionS)
        // An empty set has no key: the first SADD creates it; the TTL is set at the first count.
        .zadd(batchKeys.tenantBatches(batch.tenant), batch.created_ms, id)
        .exec();
    },

    async get(id) {
      return decode(id, await redis.hgetall(batchKeys.batch(id)));
    },

    async getMany(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(batchKeys.batch(id));
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, fields], index) => {
        if (err) throw err;
        return decode(ids[index]!, fields as Record<string, string>);
      });
    },

    async lines(id, start, count) {
      if (count <= 0) return [];
      const entries = await redis.lrange(batchKeys.lines(id), start, start + count - 1);
      return entries.map(parseLine);
    },

    async jobOf(id, customId) {
      return (await redis.hget(batchKeys.customIds(id), customId)) ?? undefined;
    },

    async recordOutcome(batchId, jobId, outcome, costMicros) {
      const [batchKey, countedKey] = keysOf(batchId);
      const [counted, transition] = await runScript<[0 | 1, string]>(
        redis,
        'batchRecordOutcome',
        [batchKey, countedKey],
        [jobId, outcome, String(Math.max(0, Math.round(costMicros))), nowS(), String(retentionS)],
      );
      return { counted: counted === 1, transition: transitionOf(transition) };
    },

    async markInProgress(id) {
      const [batchKey, countedKey] = keysOf(id);
      return transitionOf(
        await runScript<string>(redis, 'batchMarkInProgress', [batchKey, countedKey], [nowS()]),
      );
    },

    async recordOutcomes(batchId, jobIds, outcome) {
      if (jobIds.length === 0) return null;
      const [batchKey, countedKey] = keysOf(batchId);
      const [, transition] = await runScript<[number, string]>(
        redis,
        'batchRecordOutcomes',
        [batchKey, countedKey],
        [outcome, nowS(), String(retentionS), ...jobIds],
      );
      return transitionOf(transition);
    },

    async cancelPending(count) {
      return redis.zrange(batchKeys.cancelling, 0, count - 1);
    },

    async cancelDone(id) {
      await redis.zrem(batchKeys.cancelling, id);
    },

    async leaseCancel(id, holder, ms) {
      const key = batchKeys.cancelLease(id);
      if ((await redis.set(key, holder, 'PX', ms, 'NX')) === 'OK') return true;
      // Ours already: renew it (a plain read-then-write is fine: only the holder renews).
      if ((await redis.get(key)) !== holder) return false;
      await redis.pexpire(key, ms);
      return true;
    },

    async markCancelling(id) {
      const [batchKey, countedKey] = keysOf(id);
      const nowMs = (options.now ?? Date.now)();
      const [status, transition] = await runScript<[string, string]>(
        redis,
        'batchMarkCancelling',
        [batchKey, countedKey, batchKeys.cancelling],
        [String(Math.floor(nowMs / 1000)), id, String(nowMs)],
      );
      return {
        status: status === '' ? undefined : (status as BatchStatus),
        transition: transitionOf(transition),
      };
    },

    async listIds(tenant, after, count) {
      const key = batchKeys.tenantBatches(tenant);
      let start = 0;
      if (after !== undefined) {
        const rank = await redis.zrevrank(key, after);
        if (rank === null) return [];
        start = rank + 1;
      }
      return redis.zrevrange(key, start, start + count - 1);
    },

    async delete(id, tenant) {
      await redis
        .multi()
        .del(batchKeys.batch(id), batchKeys.lines(id), batchKeys.customIds(id), batchKeys.counted(id))
        .zrem(batchKeys.tenantBatches(tenant), id)
        .exec();
    },
  };
  return store;
}
