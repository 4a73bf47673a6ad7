import type { JobRecord, JobStatus } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { storeKeys } from './names.js';

/**
 * The job store: one Redis hash per job, one JSON-encoded value per field, so
 * writers that touch different fields (the worker recording fal request ids, the
 * API cancelling) never overwrite each other. Status changes go through a Lua
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
  /** Applies `patch` if the job exists and (when given) its status is one of `ifStatusIn`. */
  update(
    id: string,
    patch: JobPatch,
    options?: { ifStatusIn?: readonly JobStatus[] },
  ): Promise<UpdateResult | undefined>;
  delete(id: string, tenant: string): Promise<void>;
}

/** The Lua command, as `defineCommand` adds it to the connection. */
type WithGuardedUpdate = Redis & {
  fluxqGuardedUpdate(key: string, ...args: string[]): Promise<[0 | 1, string] | null>;
};

function encode(patch: object): string[] {
  const args: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value !== undefined) args.push(field, JSON.stringify(value));
  }
  return args;
}

function decode(fields: Record<string, string>): JobRecord | undefined {
  if (!fields.status) return undefined;
  const record: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) record[field] = JSON.parse(value);
  return record as unknown as JobRecord;
}

export function createJobStore(redis: Redis, options: { retentionS?: number } = {}): JobStore {
  const retentionS = options.retentionS ?? DEFAULT_RETENTION_S;
  if (!('fluxqGuardedUpdate' in redis)) {
    redis.defineCommand('fluxqGuardedUpdate', { numberOfKeys: 1, lua: GUARDED_UPDATE });
  }
  const scripted = redis as WithGuardedUpdate;

  return {
    async create(record) {
      const key = storeKeys.job(record.id);
      await redis
        .multi()
        .hset(key, ...encode(record))
        .expire(key, retentionS)
        .zadd(storeKeys.tenantJobs(record.tenant), record.created_ms, record.id)
        .exec();
    },

    async createMany(records, chunkSize = 1_000) {
      for (let start = 0; start < records.length; start += chunkSize) {
        const pipeline = redis.pipeline();
        for (const record of records.slice(start, start + chunkSize)) {
          const key = storeKeys.job(record.id);
          pipeline
            .hset(key, ...encode(record))
            .expire(key, retentionS)
            .zadd(storeKeys.tenantJobs(record.tenant), record.created_ms, record.id);
        }
        for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
      }
    },

    async get(id) {
      return decode(await redis.hgetall(storeKeys.job(id)));
    },

    async getMany(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(storeKeys.job(id));
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, fields]) => {
        if (err) throw err;
        return decode(fields as Record<string, string>);
      });
    },

    async status(id) {
      const status = await redis.hget(storeKeys.job(id), 'status');
      return status === null ? undefined : (JSON.parse(status) as JobStatus);
    },

    async update(id, patch, { ifStatusIn } = {}) {
      const allowed = ifStatusIn ? `,${ifStatusIn.map((s) => JSON.stringify(s)).join(',')},` : '';
      const reply = await scripted.fluxqGuardedUpdate(
        storeKeys.job(id),
        storeKeys.jobEvents,
        id,
        allowed,
        ...encode(patch),
      );
      if (!reply) return undefined;
      return { applied: reply[0] === 1, previous: JSON.parse(reply[1]) as JobStatus };
    },

    async delete(id, tenant) {
      await redis.multi().del(storeKeys.job(id)).zrem(storeKeys.tenantJobs(tenant), id).exec();
    },
  };
}
