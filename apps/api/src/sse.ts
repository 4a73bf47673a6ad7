import { isTerminalStatus, type JobStatus, type ViewContext, viewJob } from '@fluxq/core';
import type { Request, Response } from 'express';
import type { ApiDeps } from './deps.js';

/** Comment lines sent this often keep proxies and clients from closing an idle stream. */
export const SSE_HEARTBEAT_MS = 15_000;

/**
 * `GET /v1/jobs/{id}/events`: server-sent events of one job. The first event is the
 * job as it is now; then one event per status change, each carrying the job as re-read
 * after the change (`event: job.<status>`, `data:` the job object). The stream ends
 * after a terminal status. The caller has checked that the job is the tenant's.
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
  let pending = Promise.resolve();

  const close = () => {
    if (closed) return;
    closed = true;
    off();
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
        if (record.status === lastStatus) return;
        lastStatus = record.status;
        res.write(`event: job.${record.status}\ndata: ${JSON.stringify(await viewJob(record, view))}\n\n`);
        if (isTerminalStatus(record.status)) close();
      })
      .catch((err: unknown) => {
        deps.logger.warn({ err, jobId: id }, 'job event stream failed');
        close();
      });
  };

  // Listen before the first read, so no change between the two is missed.
  const off = deps.events.on(id, refresh);
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
