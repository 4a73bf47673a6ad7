import type { ConcurrencyLimiter } from '@fluxq/resilience';

/**
 * Holds this process's account-concurrency slots at fal and keeps their leases alive.
 * A lease that is not renewed (its worker died or gave the request up for a later
 * attempt) expires by itself, so a crash never leaks a slot for good.
 */
export interface SlotKeeper {
  /** Waits for a slot; re-acquiring a lease this account still holds returns at once. */
  acquire(leaseId: string, signal?: AbortSignal): Promise<void>;
  /** Takes a slot only if one is free now (a hedge never waits for one). */
  tryAcquire(leaseId: string): Promise<boolean>;
  /** The request is finished at fal (completed, failed or cancelled): free its slot. */
  release(leaseId: string): Promise<void>;
  /** Stop renewing without freeing: the request may still run at fal, so its lease runs out on its own. */
  forget(leaseId: string): void;
  /** Leases this process holds (for metrics). */
  held(): number;
  /** Live leases of all processes (one Redis read; for metrics). */
  inUse(): Promise<number>;
  close(): void;
}

export function createSlotKeeper(limiter: ConcurrencyLimiter, options: { renewEveryMs: number }): SlotKeeper {
  const held = new Set<string>();
  const timer = setInterval(() => {
    if (held.size > 0) limiter.renew([...held]).catch(() => {});
  }, options.renewEveryMs);
  timer.unref();
  return {
    async acquire(leaseId, signal) {
      await limiter.acquire(leaseId, { signal });
      held.add(leaseId);
    },
    async tryAcquire(leaseId) {
      const taken = await limiter.tryAcquire(leaseId);
      if (taken) held.add(leaseId);
      return taken;
    },
    async release(leaseId) {
      held.delete(leaseId);
      await limiter.release(leaseId);
    },
    forget(leaseId) {
      held.delete(leaseId);
    },
    held: () => held.size,
    inUse: () => limiter.inUse(),
    close() {
      clearInterval(timer);
    },
  };
}
