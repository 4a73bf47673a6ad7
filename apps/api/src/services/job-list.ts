import { FluxqError, JOB_ID_PATTERN, type JobRecord, type JobStatus } from '@fluxq/core';
import type { ApiDeps } from '../deps.js';

/**
 * `GET /v1/jobs`: cursor pages over a tenant's job index (a sorted set scored by
 * creation time), newest first. `after` is the id a page ended with (`next_cursor`).
 *
 * A filter (`status`, `batch_id`) is applied while scanning the index, and one request
 * scans at most `MAX_SCANNED_PER_PAGE` entries. When it stops there, the page may hold
 * fewer than `limit` jobs (even none) with `has_more: true` and a cursor at the last
 * entry scanned; following the cursors still returns every matching job exactly once.
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
export const MAX_SCANNED_PER_PAGE = 1_000;
/** Index entries read per round trip while filtering. */
const SCAN_CHUNK = 100;

const STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'canceled'];
const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface ListQuery {
  limit: number;
  after?: string;
  statuses?: ReadonlySet<JobStatus>;
  batchId?: string;
}

export interface JobPage {
  records: JobRecord[];
  hasMore: boolean;
  /** Pass as `after` for the next page; null on the last one. */
  nextCursor: string | null;
}

function invalid(param: string, message: string): never {
  throw new FluxqError('invalid_parameter', message, { param });
}

function single(query: Record<string, unknown>, param: string): string | undefined {
  const value = query[param];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalid(param, `${param} may be given once`);
  return value;
}

/** Validates the query string of `GET /v1/jobs`; every problem is a 400 naming the parameter. */
export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const parsed: ListQuery = { limit: DEFAULT_PAGE_SIZE };
  const limit = single(query, 'limit');
  if (limit !== undefined) {
    if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE_SIZE)
      invalid('limit', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    parsed.limit = Number(limit);
  }
  const after = single(query, 'after');
  if (after !== undefined) {
    if (!JOB_ID_PATTERN.test(after)) invalid('after', 'after must be a job id (the next_cursor of a page)');
    parsed.after = after;
  }
  const status = query.status;
  if (status !== undefined) {
    const names = (Array.isArray(status) ? status : [status]).flatMap((s) => String(s).split(','));
    for (const name of names) {
      if (!(STATUSES as readonly string[]).includes(name))
        invalid('status', `status must be one or more of ${STATUSES.join(', ')} (comma-separated)`);
    }
    parsed.statuses = new Set(names as JobStatus[]);
  }
  const batchId = single(query, 'batch_id');
  if (batchId !== undefined) {
    if (!BATCH_ID.test(batchId)) invalid('batch_id', 'batch_id must be a batch id');
    parsed.batchId = batchId;
  }
  return parsed;
}

function matches(record: JobRecord, query: ListQuery): boolean {
  if (query.statuses && !query.statuses.has(record.status)) return false;
  if (query.batchId !== undefined && record.batch_id !== query.batchId) return false;
  return true;
}

/** One page of `tenant`'s jobs, newest first. Index entries whose job has expired are skipped. */
export async function listJobs(deps: ApiDeps, tenant: string, query: ListQuery): Promise<JobPage> {
  const filtered = query.statuses !== undefined || query.batchId !== undefined;
  const records: JobRecord[] = [];
  let position = query.after;
  let scanned = 0;
  while (scanned < MAX_SCANNED_PER_PAGE) {
    // Unfiltered, one more than the page tells whether another page exists.
    const wanted = filtered ? SCAN_CHUNK : query.limit + 1 - records.length;
    const count = Math.min(wanted, MAX_SCANNED_PER_PAGE - scanned);
    const ids = await deps.jobIndex.idsAfter(tenant, position, count);
    const chunk = await deps.store.getMany(ids);
    for (const [index, id] of ids.entries()) {
      const record = chunk[index];
      if (record && record.tenant === tenant && matches(record, query)) {
        // A match beyond the page: there is more, from the last entry this page scanned.
        if (records.length === query.limit) return { records, hasMore: true, nextCursor: position ?? null };
        records.push(record);
      }
      position = id;
      scanned += 1;
    }
    if (ids.length < count) return { records, hasMore: false, nextCursor: null };
  }
  return { records, hasMore: true, nextCursor: position ?? null };
}
