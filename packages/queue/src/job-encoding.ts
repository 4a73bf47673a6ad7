import type { JobRecord } from '@fluxq/core';

/**
 * How a job record sits in its Redis hash. A new job is two fields: `status` and `base`, the
 * record as accepted in one JSON value without its id (the key holds it), `created_at` (read off
 * `created_ms`) or any field still at its starting value. Two fields instead of twenty-odd keeps
 * a queued job at about a third of the memory (each hash field costs ~60 B of overhead before its
 * value; DESIGN: the backlog's ceiling is Redis memory). Later writes (the worker, a cancel) set
 * fields of their own, one JSON value each, so writers of different fields never overwrite each
 * other; a field read back wins over the same field in `base`. Records written before `base`
 * existed (a field per property, id included) decode the same way.
 */

/** The hash field with the record as accepted. */
export const BASE_FIELD = 'base';

/**
 * A record's properties as a new job has them; `base` leaves out any still equal to these.
 * (`webhook` is not here: it is optional, and a record without one must read back without one.)
 */
const startingValues = (): Partial<JobRecord> => ({
  started_at: null,
  completed_at: null,
  output: null,
  error: null,
  attempts: 0,
  batch_id: null,
  metadata: {},
  timings: { queue_ms: null, provider_ms: null, total_ms: null },
  fal_requests: [],
  fal_input_urls: [],
  started_ms: null,
});

const STARTING_JSON = Object.fromEntries(
  Object.entries(startingValues()).map(([field, value]) => [field, JSON.stringify(value)]),
);

/** `HSET` arguments of a new record: its status and its packed base. */
export function encodeNewRecord(record: JobRecord): string[] {
  const base: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) {
    if (value === undefined || field === 'id' || field === 'status' || field === 'created_at') continue;
    const json = JSON.stringify(value);
    if (STARTING_JSON[field] !== json) base[field] = value;
  }
  return ['status', JSON.stringify(record.status), BASE_FIELD, JSON.stringify(base)];
}

/** `HSET` arguments of a patch: one JSON value per field. */
export function encodePatch(patch: object): string[] {
  const args: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value !== undefined) args.push(field, JSON.stringify(value));
  }
  return args;
}

/** The record in hash `fields` of job `id`; undefined when the hash is gone. */
export function decodeRecord(id: string, fields: Record<string, string>): JobRecord | undefined {
  if (!fields.status) return undefined;
  const record: Record<string, unknown> = { id, ...startingValues() };
  const base = fields[BASE_FIELD];
  if (base !== undefined) Object.assign(record, JSON.parse(base));
  for (const [field, value] of Object.entries(fields)) {
    if (field !== BASE_FIELD) record[field] = JSON.parse(value);
  }
  if (record.created_at === undefined) record.created_at = Math.floor((record.created_ms as number) / 1000);
  return record as unknown as JobRecord;
}
