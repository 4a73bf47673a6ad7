import type { JobPlace, JobRecord } from '@fluxq/core';
import type { BatchRecord } from '@fluxq/store';
import type { ApiDeps } from '../deps.js';

/**
 * A queued job's place in line, read from the scheduler (computed by its rules, never stored).
 * A queued job that is no longer waiting holds its slot and is preparing its inputs: next to
 * start. Null for jobs past `queued`, and when the scheduler cannot be read (the view omits it).
 */
export async function placeOf(
  record: Pick<JobRecord, 'id' | 'status'>,
  deps: Pick<ApiDeps, 'scheduler' | 'logger' | 'now'>,
): Promise<JobPlace | null> {
  const [place] = await placesOf([record], deps);
  return place ?? null;
}

/**
 * The places of a page of jobs (`GET /v1/jobs`), as `placeOf` gives each, read in one round trip
 * for the page's queued jobs; in the order of `records`.
 */
export async function placesOf(
  records: ReadonlyArray<Pick<JobRecord, 'id' | 'status'>>,
  deps: Pick<ApiDeps, 'scheduler' | 'logger' | 'now'>,
): Promise<Array<JobPlace | null>> {
  const queued = records.filter((record) => record.status === 'queued').map((record) => record.id);
  if (queued.length === 0) return records.map(() => null);
  let read: Array<Awaited<ReturnType<ApiDeps['scheduler']['place']>>>;
  try {
    read = await deps.scheduler.places(queued);
  } catch (err) {
    deps.logger.warn({ err, jobIds: queued }, 'could not read jobs’ places in line');
    return records.map(() => null);
  }
  const byId = new Map(queued.map((id, index) => [id, read[index] ?? null]));
  return records.map((record): JobPlace | null => {
    if (record.status !== 'queued') return null;
    const place = byId.get(record.id);
    if (!place) return { position: 0, estimatedStartMs: deps.now() };
    return { position: place.position, estimatedStartMs: place.estimatedStartMs };
  });
}

/**
 * When a batch should be done (unix seconds), or null once it is over or while no grant rate is
 * known. Its jobs wait in admission order, so its last job is the last to start; it then takes
 * about as long as a slot is held (limit / grant rate, by Little's law).
 */
export async function batchEstimatedCompletedAt(
  batch: Pick<BatchRecord, 'id' | 'status'>,
  deps: Pick<ApiDeps, 'scheduler' | 'batches' | 'logger'>,
): Promise<number | null> {
  if (batch.status !== 'in_progress' && batch.status !== 'validating') return null;
  try {
    const [last] = await deps.batches.lines(batch.id, -1, 1);
    const place = last ? await deps.scheduler.place(last.jobId) : null;
    const { grantsPerSecond, limit } = place ?? (await deps.scheduler.throughput());
    if (grantsPerSecond <= 0) return null;
    const holdMs = (limit / grantsPerSecond) * 1000;
    const startMs = place?.estimatedStartMs ?? Date.now();
    return Math.ceil((startMs + holdMs) / 1000);
  } catch (err) {
    deps.logger.warn({ err, batchId: batch.id }, 'could not estimate a batch’s completion');
    return null;
  }
}
