import { JOB_ERROR_CODES, type JobRecord, type JobStatus } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { decodeRecord, encodeNewRecord, encodePatch } from './job-encoding.js';
import { storeKeys } from './names.js';
import { runScript } from './scripts.js';

/**
 * The job store: one Redis hash per job (its encoding: job-encoding.ts), so writers
 * that touch different fields (the worker recording fal request ids, the API
 * cancelling) never overwrite each other. Status changes go through a Lua
 * script that checks the current status first, so a terminal job stays terminal.
 */

/** Jobs are kept this long after creation. @defaultValue 30 days */
const DEFAULT_RETENTION_S = 30 * 24 * 3_600;

// KEYS[1] job hash. ARGV[1] pub/sub channel, ARGV[2] job id,
// ARGV[3] allowed current statuses as ',"a","b",' ('' = any), ARGV[4..] field/value pairs.
// Returns the status before the update, or false when the job does not exist;
// the update is applied only when the status was allowed.
const GUARDED_UPDATE = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return false end
if ARGV[3] ~= '' and not string.find(ARGV[3], ',' .. current .. ',', 1, true) then
  return {0, current}
end
local newStatus = nil
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i] == 'status' then newStatus = ARGV[i + 1] end
end
if newStatus and newStatus ~= current then
  redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. cjson.decode(newStatus))
end
return {1, current}
`;

// KEYS[1..n] job hashes. ARGV[1] pub/sub channel, ARGV[2] now (ms), ARGV[3] the error (JSON),
// ARGV[4..n+3] the job ids. Cancels each job that is still queued, as a guarded update would;
// returns, per canceled job, its id and '1' when it has a webhook, else '0'.
const CANCEL_QUEUED = `
local now = tonumber(ARGV[2])
local canceled = {}
for i = 1, #KEYS do
  if redis.call('HGET', KEYS[i], 'status') == '"queued"' then
    -- created_ms and webhook: fields of their own on older records, else in the base's pieces.
    local pieces, n = {}, 0
    while true do
      local piece = redis.call('HGET', KEYS[i], 'b' .. n)
      if not piece then break end
      n = n + 1
      pieces[n] = piece
    end
    local base = n > 0 and cjson.decode(table.concat(pieces)) or {}
    local created = tonumber(redis.call('HGET', KEYS[i], 'created_ms') or base.created_ms or ARGV[2]) or now
    redis.call('HSET', KEYS[i], 'status', '"canceled"', 'error', ARGV[3],
      'completed_at', string.format('%d', math.floor(now / 1000)),
      'timings', string.format('{"queue_ms":null,"provider_ms":null,"total_ms":%d}', now - created))
    local id = ARGV[i + 3]
    redis.call('PUBLISH', ARGV[1], id .. ' canceled')
    local webhook = redis.call('HGET', KEYS[i], 'webhook')
    local hasWebhook = webhook and webhook ~= 'null'
    if not webhook then hasWebhook = base.webhook ~= nil and base.webhook ~= cjson.null end
    canceled[#canceled + 1] = id
    canceled[#canceled + 1] = hasWebhook and '1' or '0'
  end
end
return canceled
`;

export type JobPatch = Partial<Omit<JobRecord, 'id' | 'tenant' | 'created_at' | 'created_ms'>>;

export interface UpdateResult {
  /** False when the job's status was not one of `ifStatusIn`. */
  applied: boolean;
  /** Status before the update. */
  previous: JobStatus;
}

export interface JobStore {
  create(record: JobRecord): Promise<void>;
  /** Many records (a batch), in pipelines of `chunkSize`. */
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
  /**
   * Cancels those of `ids` that are still queued, in one round trip (a batch's cancel):
   * the same fields and event as `update` to `canceled` would write. Running or finished
   * jobs are left alone. Returns the canceled ones, and whether each has a webhook.
   */
  cancelQueued(ids: readonly string[], nowMs: number): Promise<Array<{ id: string; webhook: boolean }>>;
}

/** The Lua command, as `defineCommand` adds it to the connection. */
type WithGuardedUpdate = Redis & {
  fluxqGuardedUpdate(key: string, ...args: string[]): Promise<[0 | 1, string] | null>;
  fluxqCancelQueued(keyCount: number, ...keysAndArgs: string[]): Promise<string[]>;
};

export function createJobStore(redis: Redis, options: { retentionS?: number } = {}): JobStore {
  const retentionS = options.retentionS ?? DEFAULT_RETENTION_S;
  if (!('fluxqGuardedUpdate' in redis)) {
    redis.defineCommand('fluxqGuardedUpdate', { numberOfKeys: 1, lua: GUARDED_UPDATE });
    redis.defineCommand('fluxqCancelQueued', { lua: CANCEL_QUEUED });
  }
  const scripted = redis as WithGuardedUpdate;

  return {
    async create(record) {
      const key = storeKeys.job(record.id);
      await redis
        .multi()
        .hset(key, ...encodeNewRecord(record))
        .expire(key, retentionS)
        .zadd(storeKeys.tenantJobs(record.tenant), record.created_ms, record.id)
        .exec();
    },

    async createMany(records, chunkSize = 1_000) {
      // One script call per chunk and tenant (a batch is one tenant's; records of several
      // tenants go in runs of one tenant each).
      let from = 0;
      while (from < records.length) {
        const tenant = records[from]!.tenant;
        const end = Math.min(records.length, from + chunkSize);
        const keys: string[] = [];
        const args: Array<string | number> = [retentionS];
        let to = from;
        for (; to < end && records[to]!.tenant === tenant; to++) {
          const record = records[to]!;
          const fields = encodeNewRecord(record);
          keys.push(storeKeys.job(record.id));
          args.push(record.id, record.created_ms, fields.length);
          for (const field of fields) args.push(field);
        }
        keys.push(storeKeys.tenantJobs(tenant));
        await runScript(redis, 'jobCreateMany', keys, args);
        from = to;
      }
    },

    async get(id) {
      return decodeRecord(id, await redis.hgetall(storeKeys.job(id)));
    },

    async getMany(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(storeKeys.job(id));
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, fields], i) => {
        if (err) throw err;
        return decodeRecord(ids[i]!, fields as Record<string, string>);
      });
    },

    async status(id) {
      const status = await redis.hget(storeKeys.job(id), 'status');
      return status === null ? undefined : (JSON.parse(status) as JobStatus);
    },

    async statuses(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hget(storeKeys.job(id), 'status');
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, status]) => {
        if (err) throw err;
        return typeof status === 'string' ? (JSON.parse(status) as JobStatus) : undefined;
      });
    },

    async update(id, patch, { ifStatusIn } = {}) {
      const allowed = ifStatusIn ? `,${ifStatusIn.map((s) => JSON.stringify(s)).join(',')},` : '';
      const reply = await scripted.fluxqGuardedUpdate(
        storeKeys.job(id),
        storeKeys.jobEvents,
        id,
        allowed,
        ...encodePatch(patch),
      );
      if (!reply) return undefined;
      return { applied: reply[0] === 1, previous: JSON.parse(reply[1]) as JobStatus };
    },

    async cancelQueued(ids, nowMs) {
      if (ids.length === 0) return [];
      const error = JSON.stringify({ code: 'canceled', message: JOB_ERROR_CODES.canceled });
      const reply = await scripted.fluxqCancelQueued(
        ids.length,
        ...ids.map((id) => storeKeys.job(id)),
        storeKeys.jobEvents,
        String(Math.floor(nowMs)),
        error,
        ...ids,
      );
      const canceled: Array<{ id: string; webhook: boolean }> = [];
      for (let i = 0; i < reply.length; i += 2)
        canceled.push({ id: reply[i]!, webhook: reply[i + 1] === '1' });
      return canceled;
    },

    async delete(id, tenant) {
      await redis.multi().del(storeKeys.job(id)).zrem(storeKeys.tenantJobs(tenant), id).exec();
    },
  };
}
