import type { Redis } from 'ioredis';
import { schedulerKeys } from './keys.js';
import type { Scheduler } from './scheduler.js';

export interface GrantWaiter {
  /** Resolves once the channel is subscribed. */
  ready(): Promise<void>;
  /**
   * Resolves when `lease` is granted: at once on the grant message, or at the slow re-check
   * (a message lost while the subscriber reconnected). Rejects with the signal's reason.
   */
  wait(lease: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface GrantWaiterOptions {
  /** How often waiters check the lease set themselves, in case a grant message was lost. @defaultValue 5_000 */
  recheckMs?: number;
}

/**
 * Wake-ups for workers waiting on a slot (a hedge, a retry, a resumed job): the schedule script
 * publishes the lease ids it granted to waiters, and one subscriber per process fans them out.
 * Nothing polls for a free slot; the re-check only reads whether a waiter's own lease exists.
 */
export function createGrantWaiter(
  subscriber: Redis,
  scheduler: Pick<Scheduler, 'holds'>,
  options: GrantWaiterOptions = {},
): GrantWaiter {
  const waiters = new Map<string, Set<() => void>>();
  const wake = (lease: string) => {
    const set = waiters.get(lease);
    if (!set) return;
    waiters.delete(lease);
    for (const resolve of set) resolve();
  };
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== schedulerKeys.granted) return;
    for (const lease of message.split(' ')) if (lease) wake(lease);
  });
  const subscribed = subscriber.subscribe(schedulerKeys.granted);
  const recheck = setInterval(() => {
    for (const lease of [...waiters.keys()]) {
      scheduler
        .holds(lease)
        .then((held) => {
          if (held) wake(lease);
        })
        .catch(() => {});
    }
  }, options.recheckMs ?? 5_000);
  recheck.unref();

  return {
    async ready() {
      await subscribed;
    },
    wait(lease, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const set = waiters.get(lease) ?? new Set<() => void>();
        waiters.set(lease, set);
        const onAbort = () => {
          set.delete(done);
          if (set.size === 0) waiters.delete(lease);
          reject(signal?.reason);
        };
        const done = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        set.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async close() {
      clearInterval(recheck);
      waiters.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
