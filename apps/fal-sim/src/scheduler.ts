import { EventEmitter } from 'node:events';
import { cancelledOutcome, type ErrorOutcome, typedOutcome, userTimeoutOutcome } from './outcomes.js';
import type { LogEntry, RequestResult, RequestStore, SimRequest } from './request-store.js';
import type { StatsRecorder } from './stats.js';

/** What the model runner hands back; the scheduler adds timing. */
export type RunOutcome = { ok: true; body: Record<string, unknown> } | { ok: false; error: ErrorOutcome };

export interface SchedulerDeps {
  store: RequestStore;
  stats: StatsRecorder;
  now: () => number;
  /** Current account concurrency limit; null = unlimited. Read on every decision. */
  maxConcurrency: () => number | null;
  /** Produces the output of a request that runs to the end. */
  run: (request: SimRequest) => Promise<RunOutcome>;
  /** Called once when a request reaches COMPLETED (e.g. to send its webhook). */
  onCompleted?: (request: SimRequest) => void;
}

/**
 * Moves requests IN_QUEUE → IN_PROGRESS → COMPLETED. Under a concurrency limit only the
 * head of the FIFO may start, so requests start strictly in submit order as slots free;
 * without one each request starts as soon as its own queue phase has elapsed.
 */
export interface Scheduler {
  enqueue(request: SimRequest): void;
  /** 0 = next to start; undefined when the request is not queued. */
  queuePosition(request: SimRequest): number | undefined;
  cancel(request: SimRequest): 'CANCELLATION_REQUESTED' | 'ALREADY_COMPLETED';
  /** Starts whatever the current limit allows (call after changing it). */
  pump(): void;
  counts(): { queued: number; inProgress: number };
  /** Emits `change` with the request whenever one changes state. */
  readonly events: EventEmitter;
  /** Drops every request and timer; in-flight work is ignored when it finishes. */
  clear(): void;
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { store, stats, now } = deps;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  /** IN_QUEUE requests in ticket order. */
  let waiting: SimRequest[] = [];
  let inProgress = 0;
  let countedAtMs = now();
  /** Adds the time since the last change at the current count (before each change and on read). */
  const integrate = () => {
    const t = now();
    stats.counters.inProgressMs += inProgress * (t - countedAtMs);
    countedAtMs = t;
  };
  // Bumped by clear(): work that started before a reset must not touch the new counters.
  let epoch = 0;

  const log = (request: SimRequest, message: string, level: LogEntry['level'] = 'INFO') => {
    request.logs.push({ message, level, source: 'USER', timestamp: new Date(now()).toISOString() });
  };

  const schedule = (request: SimRequest, ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      request.timers.delete(timer);
      fn();
    }, ms);
    request.timers.add(timer);
  };

  const clearTimers = (request: SimRequest) => {
    for (const timer of request.timers) clearTimeout(timer);
    request.timers.clear();
  };

  const indexOf = (request: SimRequest) => {
    let lo = 0;
    let hi = waiting.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (waiting[mid]!.ticket < request.ticket) lo = mid + 1;
      else hi = mid;
    }
    return waiting[lo] === request ? lo : -1;
  };

  const unqueue = (request: SimRequest) => {
    const index = indexOf(request);
    if (index >= 0) waiting.splice(index, 1);
  };

  const finish = (request: SimRequest, result: RequestResult) => {
    clearTimers(request);
    const wasRunning = request.status === 'IN_PROGRESS';
    if (wasRunning) {
      integrate();
      inProgress -= 1;
    }
    request.status = 'COMPLETED';
    request.completedAt = now();
    request.result = result;
    if (result.ok) {
      stats.counters.completed += 1;
      log(request, 'Request completed');
    } else {
      stats.counters.failed += 1;
      // fal never charges a server error (5xx); a 4xx (a 422, a cancel) may still be charged for the GPU time.
      if (wasRunning && result.error.status >= 500) stats.counters.billed -= 1;
      log(request, `Request failed: ${result.error.error}`, 'ERROR');
    }
    events.emit('change', request);
    deps.onCompleted?.(request);
    if (wasRunning) pumpIfLimited();
  };

  const elapsedSeconds = (request: SimRequest) => (now() - (request.startedAt ?? now())) / 1000;

  const start = (request: SimRequest) => {
    request.status = 'IN_PROGRESS';
    request.startedAt = now();
    integrate();
    inProgress += 1;
    stats.counters.ran += 1;
    stats.counters.billed += 1;
    stats.counters.peakInProgress = Math.max(stats.counters.peakInProgress, inProgress);
    log(request, 'Runner acquired, processing request');
    events.emit('change', request);
    const { ending, runMs } = request.plan;
    if (ending.kind === 'hang') return;
    if (ending.kind === 'fail') {
      schedule(request, ending.afterMs, () =>
        finish(request, { ok: false, error: ending.outcome, inferenceTime: elapsedSeconds(request) }),
      );
      return;
    }
    const startedEpoch = epoch;
    const elapsed = new Promise<void>((resolve) => schedule(request, runMs, resolve));
    // The runner turns its own failures into outcomes; this catch is for bugs, so a request never sticks.
    const work = deps.run(request).catch(
      (error: unknown): RunOutcome => ({
        ok: false,
        error: typedOutcome(500, `Internal error: ${(error as Error)?.message}`, 'internal_error'),
      }),
    );
    void Promise.all([work, elapsed]).then(([outcome]) => {
      if (startedEpoch !== epoch || request.status !== 'IN_PROGRESS') return;
      const inferenceTime = elapsedSeconds(request);
      finish(
        request,
        outcome.ok
          ? { ok: true, body: { ...outcome.body, timings: { inference: inferenceTime } }, inferenceTime }
          : { ok: false, error: outcome.error, inferenceTime },
      );
    });
  };

  // Without a limit nothing waits on a free slot, so only a config change needs a full pump.
  const pumpIfLimited = () => {
    if (deps.maxConcurrency() !== null) pump();
  };

  const pump = () => {
    const limit = deps.maxConcurrency();
    if (limit === null) {
      const ready = waiting.filter((request) => request.ready);
      waiting = waiting.filter((request) => !request.ready);
      ready.forEach(start);
      return;
    }
    while (inProgress < limit && waiting[0]?.ready) {
      const next = waiting.shift()!;
      start(next);
    }
    // Everyone behind a started request moved up one place.
    events.emit('queue');
  };

  return {
    events,
    enqueue(request) {
      waiting.push(request);
      log(request, 'Request queued');
      schedule(request, request.plan.queueMs, () => {
        request.ready = true;
        if (deps.maxConcurrency() === null) {
          unqueue(request);
          start(request);
        } else {
          pump();
        }
      });
      const timeoutMs = request.plan.startTimeoutMs;
      if (timeoutMs !== undefined) {
        schedule(request, timeoutMs, () => {
          if (request.status !== 'IN_QUEUE') return;
          unqueue(request);
          finish(request, { ok: false, error: userTimeoutOutcome(), inferenceTime: undefined });
          pumpIfLimited();
        });
      }
    },
    queuePosition(request) {
      if (request.status !== 'IN_QUEUE') return undefined;
      const index = indexOf(request);
      return index >= 0 ? index : undefined;
    },
    cancel(request) {
      if (request.status === 'COMPLETED') return 'ALREADY_COMPLETED';
      log(request, 'Cancellation requested');
      if (request.status === 'IN_QUEUE') {
        unqueue(request);
        finish(request, { ok: false, error: cancelledOutcome(), inferenceTime: undefined });
        pumpIfLimited();
      } else {
        finish(request, { ok: false, error: cancelledOutcome(), inferenceTime: elapsedSeconds(request) });
      }
      return 'CANCELLATION_REQUESTED';
    },
    pump,
    counts() {
      integrate();
      return { queued: waiting.length, inProgress };
    },
    clear() {
      epoch += 1;
      for (const request of store.values()) clearTimers(request);
      waiting = [];
      inProgress = 0;
      countedAtMs = now();
    },
  };
}
