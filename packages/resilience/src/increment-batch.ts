import type { Redis } from 'ioredis';
import type { Clock } from './defaults.js';

/**
 * Hash counter increments gathered in memory and written in one MULTI: one HINCRBY per key and
 * field however many adds it summed, one PEXPIRE per key. Counters that many jobs bump (the
 * provider table's, the latency tracker's) then cost Redis a handful of commands per flush
 * instead of dozens per job.
 */
export interface IncrementBatch {
  /** Adds `by` to `field` of hash `key`, which must live until `expireAtMs` (ms timestamp) at least. */
  add(key: string, field: string, by: number, expireAtMs: number): void;
  /** Keys with increments not yet written. */
  readonly size: number;
  /**
   * Writes what was gathered (a no-op when nothing was). When the MULTI could not run, the
   * increments are kept for the next flush, so none is lost to a Redis blip; the error is thrown.
   */
  flush(): Promise<void>;
}

interface Pending {
  fields: Map<string, number>;
  expireAtMs: number;
}

export function createIncrementBatch(redis: Redis, now: Clock): IncrementBatch {
  let pending = new Map<string, Pending>();

  const merge = (into: Map<string, Pending>, key: string, field: string, by: number, expireAtMs: number) => {
    let entry = into.get(key);
    if (!entry) {
      entry = { fields: new Map(), expireAtMs };
      into.set(key, entry);
    }
    entry.fields.set(field, (entry.fields.get(field) ?? 0) + by);
    entry.expireAtMs = Math.max(entry.expireAtMs, expireAtMs);
  };

  return {
    add(key, field, by, expireAtMs) {
      if (by !== 0) merge(pending, key, field, by, expireAtMs);
    },

    get size() {
      return pending.size;
    },

    async flush() {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      const nowMs = now();
      const multi = redis.multi();
      for (const [key, { fields, expireAtMs }] of batch) {
        for (const [field, by] of fields) multi.hincrby(key, field, by);
        // Relative, so a clock that is not Redis's (tests) cannot expire a key at once.
        multi.pexpire(key, Math.max(1, Math.ceil(expireAtMs - nowMs)));
      }
      let replies: Array<[Error | null, unknown]>;
      try {
        replies = (await multi.exec()) ?? [];
      } catch (err) {
        // EXEC did not run (Redis unreachable, the transaction refused): nothing of it applied,
        // so the increments go back for the next flush.
        for (const [key, { fields, expireAtMs }] of batch)
          for (const [field, by] of fields) merge(pending, key, field, by, expireAtMs);
        throw err;
      }
      // A command that failed inside EXEC (a key of the wrong type) did not stop the others.
      for (const [err] of replies) if (err) throw err;
    },
  };
}

/** Flushes `batch` every `everyMs` on an unref'd timer (none when `everyMs` is 0); errors go to `onError`. */
export function flushEvery(
  batch: IncrementBatch,
  everyMs: number,
  onError?: (err: unknown) => void,
): ReturnType<typeof setInterval> | undefined {
  if (everyMs <= 0) return undefined;
  const timer = setInterval(() => {
    batch.flush().catch((err: unknown) => onError?.(err));
  }, everyMs);
  timer.unref();
  return timer;
}
