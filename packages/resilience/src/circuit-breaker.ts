import type { Redis } from 'ioredis';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
import { runScript } from './scripts.js';
import { bucketIndex, windowSums } from './windowed-counts.js';

/**
 * A circuit breaker per key (a model id): while fal fails most requests for a model,
 * workers stop sending them and, once the open period ends, let exactly one probe
 * through to find out whether it has recovered (DESIGN §6). The state lives in Redis so
 * every worker process opens, probes and closes together, and every transition is one
 * Lua script so two workers never both take the probe or both reopen.
 *
 * - closed: everything passes; outcomes are counted in a rolling window of 10 buckets.
 *   When at least `minRequests` outcomes are in the window and failures make up
 *   `failureRatio` of them, the breaker opens for `openMs`. It also opens when the last
 *   `streakToOpen` outcomes were failures of as many different jobs, with no success
 *   between: an outage that starts right after a busy period, while the window still
 *   holds hundreds of successes, is seen within a few requests instead of hundreds.
 * - open (now < openUntil): everything is refused until openUntil.
 * - half-open (open, now ≥ openUntil): one caller gets the probe, reserved for
 *   `probeLeaseMs` so a probe whose worker died does not wedge the breaker. The probe's
 *   success (or any success) closes it and forgets the window and the open period; the
 *   probe's failure reopens it for twice the last period, up to `maxOpenMs`.
 *
 * Key: `<prefix>breaker:<key>`, a hash: `state` ('open'; absent = closed), `openUntil`,
 * `openMs` (the current open period), `probeUntil` (the probe lease's expiry), `reason`,
 * `streak` (the jobs whose failures came last with no success since, space-separated) and
 * windowed counters `ok:<bucket>` and `fail:<bucket>` (see windowed-counts.ts).
 * Closing deletes the hash. It expires when idle long enough to have nothing to say.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface BreakerAllowed {
  allowed: true;
  /** This caller is the half-open probe: report its outcome with `probe: true`. */
  probe: boolean;
}

export interface BreakerRefused {
  allowed: false;
  state: 'open' | 'half-open';
  /** When to ask again. Unit: ms since the epoch. */
  retryAtMs: number;
}

export type BreakerAdmission = BreakerAllowed | BreakerRefused;

export interface BreakerStatus {
  state: CircuitState;
  /** End of the open period, when open or half-open. Unit: ms since the epoch. */
  openUntilMs?: number;
  /** Why it opened: `failure ratio`, `probe failed` or the reason given to `forceOpen`. */
  reason?: string;
  /** Outcomes counted in the window (the window is cleared when the breaker opens or closes). */
  failures: number;
  successes: number;
  /**
   * Different jobs whose requests failed last, with no success since (0 after a success).
   * Two or more means the model is failing for everyone, not for one job's input.
   */
  streak: number;
}

export interface CircuitBreakerOptions {
  /** @defaultValue '{fluxq}:' */
  prefix?: string;
  /** Rolling window over which outcomes are counted. Unit: milliseconds. @defaultValue 30_000 */
  windowMs?: number;
  /** Fewest outcomes in the window before it may open, so two early failures do not trip it. @defaultValue 10 */
  minRequests?: number;
  /** Opens when failures / outcomes ≥ this. @defaultValue 0.5 */
  failureRatio?: number;
  /** First open period. Unit: milliseconds. @defaultValue 5_000 */
  openMs?: number;
  /** Longest open period that failed probes can double up to. Unit: milliseconds. @defaultValue 60_000 */
  maxOpenMs?: number;
  /**
   * Opens when this many different jobs' requests failed in a row with no success between,
   * whatever the window holds (0 turns it off). @defaultValue 5
   */
  streakToOpen?: number;
  /** How long a half-open probe is reserved before another caller may probe. Unit: milliseconds. @defaultValue 30_000 */
  probeLeaseMs?: number;
  now?: Clock;
  /**
   * Told of every state change this process's calls made (for metrics). Each change is made
   * by one Lua script, so exactly one process hears of it; open → half-open is reported
   * when a caller takes the probe.
   */
  onTransition?: (transition: BreakerTransition) => void;
}

export interface BreakerTransition {
  key: string;
  from: CircuitState;
  to: CircuitState;
}

export interface CircuitBreaker {
  /** Whether a request for `key` may be sent now. */
  acquire(key: string): Promise<BreakerAdmission>;
  /**
   * Counts a success. While half-open any success closes the breaker (fal answered); a
   * success reported while open before openUntil is stale (sent before it opened, or a
   * probe overtaken by `forceOpen`) and changes nothing. Returns the state after.
   */
  recordSuccess(key: string, outcome: { probe: boolean }): Promise<CircuitState>;
  /**
   * Counts a failure; may open the breaker. While open or half-open only the probe's
   * failure matters (it reopens for a doubled period); failures of requests sent before
   * the breaker opened are already accounted for. `source` names what failed (a job id),
   * so a streak counts different jobs, not one job's retries. Returns the state after.
   */
  recordFailure(key: string, outcome: { probe: boolean; source?: string }): Promise<CircuitState>;
  /**
   * Opens now for `ms` whatever the counts, e.g. on bad credentials, where every request
   * would fail the same way. Never shortens an open period already running.
   */
  forceOpen(key: string, ms: number, reason?: string): Promise<void>;
  state(key: string): Promise<BreakerStatus>;
}

/** Buckets of the rolling window. */
const WINDOW_BUCKETS = 10;

/** breaker-acquire.lua: {1, probe} allowed, {0, state, retryAt} refused. */
type AcquireReply = [0, 'open' | 'half-open', string] | [1, 0 | 1];
/** breaker-success.lua and breaker-failure.lua: the state after, and before when the call changed it. */
type TransitionReply = [CircuitState, CircuitState | ''];

export function createCircuitBreaker(redis: Redis, options: CircuitBreakerOptions = {}): CircuitBreaker {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const windowMs = options.windowMs ?? 30_000;
  const minRequests = options.minRequests ?? 10;
  const failureRatio = options.failureRatio ?? 0.5;
  const openMs = options.openMs ?? 5_000;
  const maxOpenMs = options.maxOpenMs ?? 60_000;
  const probeLeaseMs = options.probeLeaseMs ?? 30_000;
  const streakToOpen = options.streakToOpen ?? 5;
  const now = options.now ?? Date.now;
  const bucketMs = windowMs / WINDOW_BUCKETS;
  const keepMs = String(Math.ceil(windowMs + maxOpenMs + probeLeaseMs));
  const report = (key: string, from: CircuitState | '', to: CircuitState) => {
    if (from !== '' && from !== to) options.onTransition?.({ key, from, to });
    return to;
  };
  const keyOf = (key: string) => `${prefix}breaker:${key}`;
  /** The ARGV every script starts with (lua/breaker-prelude.lua). */
  const common = (): Array<string | number> => {
    const t = Math.floor(now());
    return [t, bucketIndex(t, bucketMs), WINDOW_BUCKETS, keepMs];
  };
  const run = <T>(name: Parameters<typeof runScript>[1], key: string, args: Array<string | number>) =>
    runScript<T>(redis, name, [keyOf(key)], [...common(), ...args]);

  return {
    async acquire(key) {
      const reply = await run<AcquireReply>('breakerAcquire', key, [probeLeaseMs, openMs]);
      if (reply[0] === 1) {
        if (reply[1] === 1) report(key, 'open', 'half-open');
        return { allowed: true, probe: reply[1] === 1 };
      }
      return { allowed: false, state: reply[1], retryAtMs: Number(reply[2]) };
    },

    async recordSuccess(key, _outcome) {
      const [to, from] = await run<TransitionReply>('breakerSuccess', key, []);
      return report(key, from, to);
    },

    async recordFailure(key, { probe, source = '' }) {
      const [to, from] = await run<TransitionReply>('breakerFailure', key, [
        probe ? '1' : '0',
        minRequests,
        failureRatio,
        openMs,
        maxOpenMs,
        streakToOpen,
        source.replace(/\s+/g, '_'),
      ]);
      return report(key, from, to);
    },

    async forceOpen(key, ms, reason = 'forced') {
      const from = await run<CircuitState>('breakerForceOpen', key, [Math.ceil(ms), reason, maxOpenMs]);
      report(key, from, 'open');
    },

    async state(key) {
      const fields = await redis.hgetall(keyOf(key));
      const t = now();
      const sums = windowSums(fields, bucketIndex(t, bucketMs), WINDOW_BUCKETS);
      const streak = fields.streak ? fields.streak.split(' ').length : 0;
      const counts = { failures: sums.get('fail') ?? 0, successes: sums.get('ok') ?? 0, streak };
      if (fields.state !== 'open') return { state: 'closed', ...counts };
      const openUntilMs = Number(fields.openUntil);
      return {
        state: t < openUntilMs ? 'open' : 'half-open',
        openUntilMs,
        ...(fields.reason ? { reason: fields.reason } : {}),
        ...counts,
      };
    },
  };
}
