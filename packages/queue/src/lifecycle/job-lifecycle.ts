import {
  isTerminalStatus,
  JOB_ERROR_CODES,
  type JobErrorCode,
  type JobRecord,
  type JobStatus,
  unixSeconds,
  type WebhookEventType,
} from '@fluxq/core';
import type { Logger } from '@fluxq/runtime';
import {
  type BatchStore,
  type JobPatch,
  type JobStore,
  markLeftQueue,
  type WebhookDeliveryStore,
} from '@fluxq/store';
import type { Redis } from 'ioredis';
import type { ImagesQueue } from '../images-queue.js';
import type { FairEntry, FairQueue } from '../scheduler/scheduled-queue.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { emitJobEvent, type WebhooksQueue } from '../webhooks-queue.js';
import { countBatchOutcome } from './batch-outcome.js';
import { cancelQueuedJobs } from './cancel-queued.js';
import { createJobs } from './create-jobs.js';

/** How a job ended, for the process's own reporting (the worker's metrics and provider stats). */
export interface JobEnd {
  status: 'succeeded' | 'failed';
  errorCode?: JobErrorCode;
  completedMs: number;
}

export interface JobLifecycleDeps {
  store: JobStore;
  /** The tenant queued-jobs index (`max_queued_jobs`). */
  redis: Redis;
  webhooks: { queue: WebhooksQueue; deliveries: WebhookDeliveryStore };
  /** Unset = no batch accounting (tests without batches). */
  batches?: BatchStore;
  /** A queued job that is canceled leaves the scheduler's order. */
  scheduler: Pick<Scheduler, 'cancel'>;
  /**
   * The `images` queue and the scheduled queue over it: a canceled job that BullMQ holds and no
   * worker has yet is taken out, and its grant given back. Unset in processes that never cancel.
   */
  images?: {
    queue: Pick<ImagesQueue, 'remove' | 'getJobs'>;
    fair: Pick<FairQueue, 'admit' | 'giveBack'>;
  };
  logger: Logger;
  now: () => number;
  /** Told once per job, by the process whose update made it terminal (not for cancels). */
  onEnded?: (record: JobRecord, end: JobEnd) => Promise<void>;
}

/** What an attempt stores with its outcome (the status, and the guard, are the lifecycle's). */
export type OutcomeFields = Omit<JobPatch, 'status' | 'error' | 'completed_at'>;

/**
 * Every status change of a job with all of its side effects, in one place (packages/queue
 * README, "Job lifecycle"). Each terminal transition is one guarded update (a terminal job stays
 * terminal, so of two racing transitions exactly one applies) followed by its effects; the
 * effects that may be repeated (the batch count, the webhook event) are idempotent per job, and
 * are run again from the stored state by `settle` after a crash.
 *
 * Not here: the fal capacity an attempt holds (its slot and running lease) is the holder's, since
 * leases are renewed in that process and only it knows which of them a request at fal still uses;
 * it is freed when the attempt ends, whatever the outcome (apps/worker fal-capacity.ts).
 */
export interface JobLifecycle {
  /**
   * New jobs (`newJobRecord`, one tenant's: a job or a batch's lines), queued: their records, then
   * their tickets in the scheduler's order (`entryOf`: the tenant's running limit and weight). All
   * or nothing: on a failure nothing of them is left, and the error is thrown. The tenant's queued
   * index is entered before (the queued-jobs limit decides whether they may be created at all).
   */
  create(records: readonly JobRecord[], entryOf: (record: JobRecord) => FairEntry): Promise<void>;
  /**
   * queued → running: fal has a request of the job (called once its request id is on the record).
   * Stamps `started_at`, leaves the tenant's queued index, emits `job.started`. False (and nothing
   * done) when the job was not queued: running already (a further chunk, a hedge), or finished.
   * `fields` (what made it running: the request id at fal) are written in the same guarded update,
   * so they cost no round trip of their own; when it answers false they were not written.
   */
  start(record: JobRecord, fields?: OutcomeFields): Promise<boolean>;
  /** running → succeeded with the attempt's output; then the process hook, batch count, `job.succeeded`. */
  succeed(record: JobRecord, completedMs: number, fields: OutcomeFields): Promise<boolean>;
  /** queued | running → failed; then the process hook, batch count, `job.failed`. */
  fail(
    record: JobRecord,
    failure: { code: JobErrorCode; message: string; completedMs: number },
    fields?: OutcomeFields,
  ): Promise<boolean>;
  /**
   * BullMQ failed the job without our processor (it stalled too often): failed with
   * `internal_error`, as `fail` does. Its fal slot is left to expire: a request of the stalled
   * worker may still run at fal under it.
   */
  stall(jobId: string, message: string): Promise<boolean>;
  /**
   * queued | running → canceled. A queued one leaves the queued index and the scheduler's order
   * (it never takes a slot); one that BullMQ holds with no worker is taken out and its grant given
   * back; a running one is stopped by its worker, which hears the status change. Then the batch
   * count and `job.canceled`. Returns the stored record (unchanged if it had ended).
   */
  cancel(record: JobRecord): Promise<JobRecord>;
  /**
   * Cancels those of a batch's `ids` still queued, in one script call, with the same effects as
   * `cancel` (lifecycle/cancel-queued.ts). Returns the ids canceled; running ones are left.
   */
  cancelQueuedOfBatch(batch: { id: string; tenant: string }, ids: readonly string[]): Promise<string[]>;
  /**
   * The effects of the job's stored status again (batch count and its webhook event, both
   * idempotent): for a process that finds a job finished by a run that may have died before them.
   */
  settle(jobId: string, type: WebhookEventType): Promise<void>;
}

export const TERMINAL_EVENTS = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  canceled: 'job.canceled',
} as const satisfies Partial<Record<JobStatus, WebhookEventType>>;

export function createJobLifecycle(deps: JobLifecycleDeps): JobLifecycle {
  const { store, logger } = deps;
  const events = { queue: deps.webhooks.queue, deliveries: deps.webhooks.deliveries, now: deps.now };

  /** Batch count first (it does not depend on a webhook), then the event. Logged, never thrown. */
  const settle = async (jobId: string, type: WebhookEventType) => {
    try {
      const record = await store.get(jobId);
      if (!record) return;
      if (type !== 'job.started') await countInBatch(record);
      // Only what really happened: a job canceled while it ran did not succeed or fail.
      if (type !== 'job.started' && TERMINAL_EVENTS[record.status as keyof typeof TERMINAL_EVENTS] !== type)
        return;
      await emitJobEvent(events, record, type);
    } catch (err) {
      logger.error({ err, jobId, type }, 'could not queue a webhook event');
    }
  };

  /**
   * `settle` for a job whose record is at hand: nothing to read when it is in no batch and its
   * webhook does not take `type` (`batch_id` and `webhook` are set at creation and never change),
   * which is most jobs, so they pay no HGETALL per transition.
   */
  const settleKnown = async (
    record: Pick<JobRecord, 'id' | 'batch_id' | 'webhook'>,
    type: WebhookEventType,
  ) => {
    if (!record.batch_id && !record.webhook?.events.includes(type)) return;
    await settle(record.id, type);
  };

  /** A finished job of a batch counts once; the count that finishes the batch emits `batch.completed`. */
  const countInBatch = async (record: JobRecord) => {
    if (!record.batch_id || !deps.batches) return;
    try {
      await countBatchOutcome({ ...events, batches: deps.batches }, record);
    } catch (err) {
      logger.error({ err, jobId: record.id, batchId: record.batch_id }, 'could not count a batch job');
    }
  };

  const leaveQueuedIndex = (tenant: string, jobId: string) =>
    // An entry left behind is pruned by the API once it finds the job no longer queued.
    markLeftQueue(deps.redis, tenant, jobId).catch((err: unknown) =>
      logger.warn({ err, tenant, jobId }, 'could not take a job out of the queued index'),
    );

  const ended = async (record: JobRecord, end: JobEnd) => {
    try {
      await deps.onEnded?.(record, end);
    } catch (err) {
      logger.warn({ err, jobId: record.id }, 'could not report a finished job');
    }
  };

  /** Out of BullMQ when no worker holds it; one that was granted gives its slot to the next job. */
  const removeFromQueue = async (record: JobRecord) => {
    if (!deps.images) return;
    const id = record.id;
    try {
      const removed = await deps.images.queue.remove(id);
      if (removed === 1) await deps.images.fair.giveBack([{ jobId: id, tenant: record.tenant }]);
      else logger.debug({ jobId: id }, 'canceled job is held by a worker; it will stop there');
    } catch (err) {
      logger.warn({ err, jobId: id }, 'could not remove a canceled job from the queue');
    }
  };

  const leaveSchedule = async (id: string) => {
    try {
      await deps.scheduler.cancel([id]);
    } catch (err) {
      logger.warn({ err, jobId: id }, 'could not take a canceled job out of the schedule');
    }
  };

  return {
    create: (records, entryOf) => createJobs(deps, records, entryOf),

    async start(record, fields = {}) {
      if (record.status === 'running') return false;
      const startedAt = unixSeconds(deps.now());
      const started = await store.update(
        record.id,
        { ...fields, status: 'running', started_at: startedAt },
        { ifStatusIn: ['queued'] },
      );
      if (!started?.applied) return false;
      record.status = 'running';
      record.started_at = startedAt;
      await leaveQueuedIndex(record.tenant, record.id);
      await settleKnown(record, 'job.started');
      return true;
    },

    async succeed(record, completedMs, fields) {
      const stored = await store.update(
        record.id,
        { ...fields, status: 'succeeded', error: null, completed_at: unixSeconds(completedMs) },
        { ifStatusIn: ['running'] },
      );
      if (stored?.applied) await ended({ ...record, ...fields }, { status: 'succeeded', completedMs });
      // Also when another transition won: its effects again, which count nothing twice.
      await settleKnown(record, 'job.succeeded');
      return stored?.applied === true;
    },

    async fail(record, failure, fields = {}) {
      const { code, message, completedMs } = failure;
      const failed = await store.update(
        record.id,
        { ...fields, status: 'failed', error: { code, message }, completed_at: unixSeconds(completedMs) },
        { ifStatusIn: ['queued', 'running'] },
      );
      if (failed?.applied) {
        if (failed.previous === 'queued') await leaveQueuedIndex(record.tenant, record.id);
        await ended({ ...record, ...fields }, { status: 'failed', errorCode: code, completedMs });
      }
      await settleKnown(record, 'job.failed');
      return failed?.applied === true;
    },

    async stall(jobId, message) {
      const failed = await store.update(
        jobId,
        {
          status: 'failed',
          error: { code: 'internal_error', message },
          completed_at: unixSeconds(deps.now()),
        },
        { ifStatusIn: ['queued', 'running'] },
      );
      const record = failed?.applied ? await store.get(jobId) : undefined;
      if (!record) return false;
      if (failed?.previous === 'queued') await leaveQueuedIndex(record.tenant, jobId);
      await ended(record, { status: 'failed', errorCode: 'internal_error', completedMs: deps.now() });
      await settle(jobId, 'job.failed');
      return true;
    },

    async cancel(record) {
      let status: JobStatus = record.status;
      // queued → running can happen between our read and our write: then cancel it as running.
      for (let tries = 0; tries < 3 && !isTerminalStatus(status); tries++) {
        const nowMs = deps.now();
        const result = await store.update(
          record.id,
          {
            status: 'canceled',
            error: { code: 'canceled', message: JOB_ERROR_CODES.canceled },
            completed_at: Math.floor(nowMs / 1000),
            timings: { ...record.timings, total_ms: nowMs - record.created_ms },
          },
          { ifStatusIn: [status] },
        );
        if (!result) break;
        if (result.applied) {
          if (status === 'queued') {
            await leaveQueuedIndex(record.tenant, record.id);
            await leaveSchedule(record.id);
          }
          await removeFromQueue(record);
          await settle(record.id, 'job.canceled');
          break;
        }
        status = result.previous;
      }
      return (await store.get(record.id)) ?? record;
    },

    cancelQueuedOfBatch: (batch, ids) => cancelQueuedJobs({ ...deps, events }, batch, ids),

    settle,
  };
}
