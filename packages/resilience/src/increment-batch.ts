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

/**
 * Counter increments as a store writes them: with `flushEveryMs` 0 each `add` call is written (one
 * MULTI) before it resolves; above 0 they are summed in memory and written this often on an unref'd
 * timer (a failed timed flush goes to `onFlushError`, its increments kept for the next), and on
 * `flush` and `close`.
 */
export interface CounterWriter {
  /** Runs `write` on a batch: written at once, or with the next flush. */
  add(write: (batch: IncrementBatch) => void): Promise<void>;
  /** Writes what was gathered (nothing without `flushEveryMs`). */
  flush(): Promise<void>;
  /** Stops the timed flush and writes what is left. */
  close(): Promise<void>;
}

export function createCounterWriter(
  redis: Redis,
  now: Clock,
  options: { flushEveryMs?: number; onFlushError?: (err: unknown) => void } = {},
): CounterWriter {
  const everyMs = options.flushEveryMs ?? 0;
  const gathered = createIncrementBatch(redis, now);
  const timer =
    everyMs > 0
      ? setInterval(() => {
          gathered.flush().catch((err: unknown) => options.onFlushError?.(err));
        }, everyMs)
      : undefined;
  timer?.unref();
  return {
    async add(write) {
      if (everyMs > 0) {
        write(gathered);
        return;
      }
      const batch = createIncrementBatch(redis, now);
      write(batch);
      await batch.flush();
    },
    flush: () => gathered.flush(),
    async close() {
      clearInterval(timer);
      await gathered.flush();
    },
  };
}
