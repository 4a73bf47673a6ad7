import { JOB_ERROR_CODES, type JobRecord, type JobStatus } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { decodeRecord, encodeNewRecord, encodePatch, PIECE_BYTES } from './job-encoding.js';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * The job store: one Redis hash per job (its encoding: job-encoding.ts), so writers
 * that touch different fields (the worker recording fal request ids, the API
 * cancelling) never overwrite each other. Status changes go through a Lua
 * script that checks the current status first, so a terminal job stays terminal.
 */

/** Jobs are kept this long after creation. @defaultValue 30 days */
const DEFAULT_RETENTION_S = 30 * 24 * 3_600;

export type JobPatch = Partial<Omit<JobRecord, 'id' | 'tenant' | 'created_at' | 'created_ms'>>;

export interface UpdateResult {
  /** False when the job's status was not one of `ifStatusIn`. */
  applied: boolean;
  /** Status before the update. */
  previous: JobStatus;
}

export interface JobStore {
  create(record: JobRecord): Promise<void>;
  /** Many records (a batch), one script call per `chunkSize` records of one tenant. */
  createMany(records: readonly JobRecord[], chunkSize?: number): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Several jobs in one round trip, in the order of `ids` (undefined where a job is gone). */
  getMany(ids: readonly string[]): Promise<Array<JobRecord | undefined>>;
  /** Just the status: cheap enough to check on every poll. */
  status(id: string): Promise<JobStatus | undefined>;
  /** The statuses of several jobs in one round trip, in the order of `ids`. */
  statuses(ids: readonly string[]): Promise<Array<JobStatus | undefined>>;
  /** Applies `patch` if the job exists and (when given) its status is one of `ifStatusIn`. */
  update(
    id: string,
    patch: JobPatch,
    options?: { ifStatusIn?: readonly JobStatus[] },
  ): Promise<UpdateResult | undefined>;
  delete(id: string, tenant: string): Promise<void>;
  /** Deletes many records of one tenant (jobs never accepted: a failed create's undo), in pipelines of `chunkSize`. */
  deleteMany(ids: readonly string[], tenant: string, chunkSize?: number): Promise<void>;
  /**
   * Cancels those of `ids` that are still queued, in one round trip (a batch's cancel):
   * the same fields and event as `update` to `canceled` would write. Running or finished
   * jobs are left alone. Returns the canceled ones, and whether each has a webhook.
   */
  cancelQueued(ids: readonly string[], nowMs: number): Promise<Array<{ id: string; webhook: boolean }>>;
}

export function createJobStore(redis: Redis, options: { retentionS?: number } = {}): JobStore {
  const retentionS = options.retentionS ?? DEFAULT_RETENTION_S;

  const createMany = async (records: readonly JobRecord[], chunkSize = 1_000): Promise<void> => {
    // One script call per chunk and tenant (a batch is one tenant's; records of several
    // tenants go in runs of one tenant each).
    let from = 0;
    while (from < records.length) {
      const tenant = records[from]!.tenant;
      const end = Math.min(records.length, from + chunkSize);
      const keys: string[] = [];
      const args: Array<string | number> = [retentionS, PIECE_BYTES];
      let to = from;
      for (; to < end && records[to]!.tenant === tenant; to++) {
        const record = records[to]!;
        const { status, base } = encodeNewRecord(record);
        keys.push(recordKeys.job(record.id));
        args.push(record.id, record.created_ms, status, base);
      }
      keys.push(recordKeys.tenantJobs(tenant));
      await runScript(redis, 'jobCreateMany', keys, args);
      from = to;
    }
  };

  return {
    // The batch script with one record: atomic as a MULTI was, and (unlike a MULTI) it joins the
    // other commands of its event-loop turn in one write on an auto-pipelined connection.
    create: (record) => createMany([record]),
    createMany,

    async get(id) {
      return decodeRecord(id, await redis.hgetallBuffer(recordKeys.job(id)));
    },

    async getMany(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetallBuffer(recordKeys.job(id));
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, fields], i) => {
        if (err) throw err;
        return decodeRecord(ids[i]!, fields as Record<string, Buffer>);
      });
    },

    async status(id) {
      const status = await redis.hget(recordKeys.job(id), 'status');
      return status === null ? undefined : (JSON.parse(status) as JobStatus);
    },

    async statuses(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hget(recordKeys.job(id), 'status');
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, status]) => {
        if (err) throw err;
        return typeof status === 'string' ? (JSON.parse(status) as JobStatus) : undefined;
      });
    },

    async update(id, patch, { ifStatusIn } = {}) {
      const allowed = ifStatusIn ? `,${ifStatusIn.map((s) => JSON.stringify(s)).join(',')},` : '';
      const reply = await runScript<[0 | 1, string] | null>(
        redis,
        'jobGuardedUpdate',
        [recordKeys.job(id)],
        [recordKeys.jobEvents, id, allowed, ...encodePatch(patch)],
      );
      if (!reply) return undefined;
      return { applied: reply[0] === 1, previous: JSON.parse(reply[1]) as JobStatus };
    },

    async cancelQueued(ids, nowMs) {
      if (ids.length === 0) return [];
      const error = JSON.stringify({ code: 'canceled', message: JOB_ERROR_CODES.canceled });
      const reply = await runScript<string[]>(
        redis,
        'jobCancelQueued',
        ids.map((id) => recordKeys.job(id)),
        [recordKeys.jobEvents, String(Math.floor(nowMs)), error, ...ids],
      );
      const canceled: Array<{ id: string; webhook: boolean }> = [];
      for (let i = 0; i < reply.length; i += 2)
        canceled.push({ id: reply[i]!, webhook: reply[i + 1] === '1' });
      return canceled;
    },

    async delete(id, tenant) {
      await redis.multi().del(recordKeys.job(id)).zrem(recordKeys.tenantJobs(tenant), id).exec();
    },

    async deleteMany(ids, tenant, chunkSize = 1_000) {
      for (let start = 0; start < ids.length; start += chunkSize) {
        const chunk = ids.slice(start, start + chunkSize);
        await redis
          .pipeline()
          .del(...chunk.map((id) => recordKeys.job(id)))
          .zrem(recordKeys.tenantJobs(tenant), ...chunk)
          .exec();
      }
    },
  };
}
