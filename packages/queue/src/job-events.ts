import { isTerminalStatus, type JobStatus } from '@fluxq/core';
import type { JobStore } from '@fluxq/store';
import type { Redis } from 'ioredis';
import { createJobStatusFeed, type JobStatusListener } from './job-status-feed.js';
import { schedulerKeys } from './scheduler/index.js';

/**
 * Status changes of jobs, as the job store publishes them, fanned out to listeners in
 * this process over one subscriber connection. Used to answer synchronous calls as soon
 * as a job finishes and to stream events, without polling.
 */
export interface JobEvents {
  /** Calls `listener` on each status change of job `id`; returns the unsubscribe function. */
  on(id: string, listener: JobStatusListener): () => void;
  /**
   * Resolves with the terminal status of job `id`, or undefined when `timeoutMs` passes
   * first (or `signal` aborts). Listens before it reads the store, so no change is missed.
   */
  waitForTerminal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<JobStatus | undefined>;
  /**
   * Shutdown: ends every pending `waitForTerminal` with undefined (callers answer 202)
   * and aborts `stopping`, which event streams listen to so they end too.
   */
  abortWaits(): void;
  /** Aborted by `abortWaits()`. */
  readonly stopping: AbortSignal;
  /** Calls `listener` whenever the scheduler granted slots (places in line moved); returns the unsubscribe. */
  onGrants(listener: () => void): () => void;
  close(): Promise<void>;
}

export async function createJobEvents(subscriber: Redis, store: JobStore): Promise<JobEvents> {
  const feed = await createJobStatusFeed(subscriber);
  // The same connection hears the scheduler's grants: queued jobs' streams refresh their place.
  const grantListeners = new Set<() => void>();
  subscriber.on('message', (channel: string) => {
    if (channel !== schedulerKeys.granted) return;
    for (const listener of [...grantListeners]) listener();
  });
  await subscriber.subscribe(schedulerKeys.granted);
  const pendingWaits = new Set<() => void>();
  const on = feed.on;

  const stopping = new AbortController();
  const abortWaits = () => {
    stopping.abort();
    for (const abort of [...pendingWaits]) abort();
  };

  return {
    on,
    waitForTerminal(id, timeoutMs, signal) {
      return new Promise<JobStatus | undefined>((resolve, reject) => {
        let settled = false;
        const finish = (status: JobStatus | undefined) => {
          if (settled) return;
          settled = true;
          off();
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          pendingWaits.delete(onAbort);
          resolve(status);
        };
        const onAbort = () => finish(undefined);
        pendingWaits.add(onAbort);
        const off = on(id, (status) => {
          if (isTerminalStatus(status)) finish(status);
        });
        const timer = setTimeout(() => finish(undefined), timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        store.status(id).then(
          (status) => {
            if (status && isTerminalStatus(status)) finish(status);
          },
          (err: unknown) => {
            if (settled) return;
            settled = true;
            off();
            clearTimeout(timer);
            pendingWaits.delete(onAbort);
            reject(err);
          },
        );
      });
    },
    abortWaits,
    stopping: stopping.signal,
    onGrants(listener) {
      grantListeners.add(listener);
      return () => grantListeners.delete(listener);
    },
    async close() {
      abortWaits();
      await feed.close();
    },
  };
}
