/**
 * This process's account-concurrency slots at fal, with their leases kept alive (the scheduler's
 * implementation is `createFalCapacity(...).slots`, fal-capacity.ts).
 * A lease that is not renewed (its worker died or gave the request up for a later
 * attempt) expires by itself, so a crash never leaks a slot for good.
 */
export interface SlotKeeper {
  /** Waits for a slot; re-acquiring a lease this account still holds returns at once. */
  acquire(leaseId: string, signal?: AbortSignal): Promise<void>;
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
