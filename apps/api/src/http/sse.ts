import { isTerminalStatus, type JobStatus, type ViewContext, viewJob } from '@fluxq/core';
import type { Request, Response } from 'express';
import type { ApiDeps } from '../deps.js';
import { placeOf } from '../services/queue-place.js';

/** A queued job's place is re-read at most this often, when grants moved the line. */
const PLACE_REFRESH_MS = 250;

/** Comment lines sent this often keep proxies and clients from closing an idle stream. */
export const SSE_HEARTBEAT_MS = 15_000;

/**
 * `GET /v1/jobs/{id}/events`: server-sent events of one job. The first event is the
 * job as it is now; then one event per status change, each carrying the job as re-read
 * after the change (`event: job.<status>`, `data:` the job object). While the job is queued,
 * another `job.queued` follows whenever its `queue_position` changes (re-read when the scheduler
 * grants slots, at most every 250 ms). The stream ends after a terminal status. The caller has
 * checked that the job is the tenant's.
 */
export function streamJobEvents(
  req: Request,
  res: Response,
  id: string,
  deps: ApiDeps,
  view: ViewContext,
  heartbeatMs = SSE_HEARTBEAT_MS,
): void {
  res.status(200).set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();

  let closed = false;
  let lastStatus: JobStatus | undefined;
  let lastPosition: number | null | undefined;
  let pending = Promise.resolve();
  let placeTimer: NodeJS.Timeout | undefined;

  const close = () => {
    if (closed) return;
    closed = true;
    off();
    offGrants();
    clearTimeout(placeTimer);
    clearInterval(heartbeat);
    deps.events.stopping.removeEventListener('abort', close);
    res.end();
  };

  // Reads are chained so events leave in the order the changes happened; a re-read that
  // already shows a later status sends that, and the status it skipped is not repeated.
  const refresh = () => {
    pending = pending
      .then(async () => {
        if (closed) return;
        const record = await deps.store.get(id);
        if (!record || closed) return close();
        const place = await placeOf(record, deps);
        const position = place?.position ?? null;
        if (record.status === lastStatus && (record.status !== 'queued' || position === lastPosition)) return;
        lastStatus = record.status;
        lastPosition = position;
        res.write(`event: job.${record.status}
data: ${JSON.stringify(await viewJob(record, view, place))}

`);
        if (isTerminalStatus(record.status)) close();
      })
      .catch((err: unknown) => {
        deps.logger.warn({ err, jobId: id }, 'job event stream failed');
        close();
      });
  };

  // Listen before the first read, so no change between the two is missed.
  const off = deps.events.on(id, refresh);
  const offGrants = deps.events.onGrants(() => {
    if (lastStatus !== 'queued' || placeTimer) return;
    placeTimer = setTimeout(() => {
      placeTimer = undefined;
      refresh();
    }, PLACE_REFRESH_MS);
  });
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': heartbeat\n\n');
  }, heartbeatMs);
  req.on('close', close);
  res.on('close', close);
  // The API is shutting down: end the stream so the server can close.
  deps.events.stopping.addEventListener('abort', close, { once: true });
  if (deps.events.stopping.aborted) close();
  refresh();
}
