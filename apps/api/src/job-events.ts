import { isTerminalStatus, type JobStatus } from '@fluxq/core';
import { type JobStore, storeKeys } from '@fluxq/queue';
import type { Redis } from 'ioredis';

export type JobStatusListener = (status: JobStatus) => void;

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
  close(): Promise<void>;
}

export async function createJobEvents(subscriber: Redis, store: JobStore): Promise<JobEvents> {
  const listeners = new Map<string, Set<JobStatusListener>>();
  subscriber.on('message', (_channel: string, message: string) => {
    const space = message.indexOf(' ');
    const set = listeners.get(message.slice(0, space));
    if (!set) return;
    const status = message.slice(space + 1) as JobStatus;
    for (const listener of [...set]) listener(status);
  });
  await subscriber.subscribe(storeKeys.jobEvents);

  const on = (id: string, listener: JobStatusListener) => {
    let set = listeners.get(id);
    if (!set) listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) listeners.delete(id);
    };
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
          resolve(status);
        };
        const onAbort = () => finish(undefined);
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
            reject(err);
          },
        );
      });
    },
    async close() {
      listeners.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
