import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits `ms`, or rejects with the signal's reason as soon as it aborts (at once when it
 * already has): the one sleep every retry loop uses, so no wait outlives a cancel.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(Math.max(0, ms), undefined, signal ? { signal } : undefined).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}
