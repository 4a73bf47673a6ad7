import type { JobStatus } from '@fluxq/core';
import { recordKeys } from '@fluxq/store';
import type { Redis } from 'ioredis';

export type JobStatusListener = (status: JobStatus) => void;

/**
 * Status changes of jobs, as the job store's guarded update publishes them
 * (`"<id> <status>"` on `{fluxq}:job-events`), fanned out to listeners in this process
 * over one subscriber connection. The API answers synchronous calls and streams events
 * from it; a worker learns at once that a job it holds was canceled.
 */
export interface JobStatusFeed {
  /** Calls `listener` on each status change of job `id`; returns the unsubscribe function. */
  on(id: string, listener: JobStatusListener): () => void;
  /** Drops every listener and closes the subscriber connection. */
  close(): Promise<void>;
}

/** Subscribes `subscriber` (a connection of its own: it can do nothing else) to the job events. */
export async function createJobStatusFeed(subscriber: Redis): Promise<JobStatusFeed> {
  const listeners = new Map<string, Set<JobStatusListener>>();
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== recordKeys.jobEvents) return;
    const space = message.indexOf(' ');
    const set = listeners.get(message.slice(0, space));
    if (!set) return;
    const status = message.slice(space + 1) as JobStatus;
    for (const listener of [...set]) listener(status);
  });
  await subscriber.subscribe(recordKeys.jobEvents);
  return {
    on(id, listener) {
      const set = listeners.get(id) ?? new Set<JobStatusListener>();
      listeners.set(id, set);
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(id);
      };
    },
    async close() {
      listeners.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
