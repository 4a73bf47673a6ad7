import type { JobStatusFeed } from '@fluxq/queue';
import { JobCanceledError } from '../errors.js';

/** Aborted, with a `JobCanceledError`, the moment the job is canceled; `stop` when done with it. */
export interface CancelWatch {
  signal: AbortSignal;
  stop(): void;
}

/**
 * Listens for the job's cancel on the job status feed, so a running job stops (and its
 * requests, hedges included, are cancelled at fal) within a round trip of
 * `POST /v1/jobs/{id}/cancel` rather than at the next status poll. Without a feed the
 * signal never aborts and the poll loop's status check is what notices.
 */
export function watchForCancel(feed: JobStatusFeed | undefined, jobId: string): CancelWatch {
  const controller = new AbortController();
  const off = feed?.on(jobId, (status) => {
    if (status === 'canceled') controller.abort(new JobCanceledError(`job ${jobId} was canceled`));
  });
  return { signal: controller.signal, stop: () => off?.() };
}
