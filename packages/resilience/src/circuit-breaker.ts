import type { Redis } from 'ioredis';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
import { bucketIndex, WINDOW_SUMS_LUA, windowSums } from './windowed-counts.js';

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

// Every script: KEYS[1] the breaker hash; ARGV[1] now (ms), ARGV[2] current bucket,
// ARGV[3] buckets in the window, ARGV[4] how long to keep the hash past openUntil (ms).
const PRELUDE = `${WINDOW_SUMS_LUA}
local key = KEYS[1]
local now = tonumber(ARGV[1])
local current = tonumber(ARGV[2])
local buckets = tonumber(ARGV[3])
local keep_ms = tonumber(ARGV[4])
local function int(x) return string.format('%d', x) end
local function touch()
  local open_until = tonumber(redis.call('HGET', key, 'openUntil') or '0')
  redis.call('PEXPIRE', key, int(math.max(open_until - now, 0) + keep_ms))
end
-- Opens until open_until with 'period' remembered for doubling; clears the window and any probe lease.
local function open(open_until, period, reason)
  redis.call('DEL', key)
  redis.call('HSET', key, 'state', 'open', 'openUntil', int(open_until), 'openMs', int(period), 'reason', reason)
  touch()
end
local state = redis.call('HGET', key, 'state')
local open_until = tonumber(redis.call('HGET', key, 'openUntil') or '0')
`;

// ARGV[5] probe lease (ms), ARGV[6] base open period (ms).
// Returns {1, probe} when allowed, {0, state, retryAt} when refused.
const ACQUIRE = `${PRELUDE}
if state ~= 'open' then return {1, 0} end
if now < open_until then return {0, 'open', int(open_until)} end
local probe_until = tonumber(redis.call('HGET', key, 'probeUntil') or '0')
if now < probe_until then
  -- Ask again when the probe's lease ends, or sooner: a probe usually settles well before.
  return {0, 'half-open', int(math.min(probe_until, now + tonumber(ARGV[6])))}
end
redis.call('HSET', key, 'probeUntil', int(now + tonumber(ARGV[5])))
touch()
return {1, 1}
`;

// Returns {state after, state before when this call changed it, else ''}.
const SUCCESS = `${PRELUDE}
if state == 'open' then
  if now < open_until then return {'open', ''} end
  redis.call('DEL', key)
  return {'closed', 'half-open'}
end
window_sums(key, current, buckets)
redis.call('HINCRBY', key, 'ok:' .. ARGV[2], 1)
redis.call('HDEL', key, 'streak')
touch()
return {'closed', ''}
`;

// ARGV[5] '1' for the probe, ARGV[6] minRequests, ARGV[7] failureRatio,
// ARGV[8] base open period (ms), ARGV[9] longest open period (ms), ARGV[10] streakToOpen
// (0 = off), ARGV[11] what failed ('' = unnamed: counts as a job of its own). Returns as SUCCESS does.
const FAILURE = `${PRELUDE}
if state == 'open' then
  if now < open_until then return {'open', ''} end
  if ARGV[5] ~= '1' then return {'half-open', ''} end
  local last = tonumber(redis.call('HGET', key, 'openMs') or ARGV[8])
  local period = math.min(last * 2, tonumber(ARGV[9]))
  open(now + period, period, 'probe failed')
  return {'open', 'half-open'}
end
local sums = window_sums(key, current, buckets)
local ok = sums['ok'] or 0
local fail = (sums['fail'] or 0) + 1
if ok + fail >= tonumber(ARGV[6]) and fail / (ok + fail) >= tonumber(ARGV[7]) - 1e-12 then
  open(now + tonumber(ARGV[8]), tonumber(ARGV[8]), 'failure ratio')
  return {'open', 'closed'}
end
-- The streak: distinct sources failing in a row. A source already in it adds nothing.
local to_open = tonumber(ARGV[10])
local source = ARGV[11]
if source == '' then source = '~' .. now .. '~' .. fail end
local streak = redis.call('HGET', key, 'streak') or ''
local members = 0
local seen = false
for member in string.gmatch(streak, '%S+') do
  members = members + 1
  if member == source then seen = true end
end
if not seen then
  members = members + 1
  -- Only the last streakToOpen members matter; keep the field short.
  if to_open > 0 and members > to_open then streak = string.gsub(streak, '^%S+ ?', '') ; members = to_open end
  streak = (streak == '' and source) or (streak .. ' ' .. source)
end
if to_open > 0 and members >= to_open then
  open(now + tonumber(ARGV[8]), tonumber(ARGV[8]), 'consecutive failures')
  return {'open', 'closed'}
end
redis.call('HSET', key, 'streak', streak)
redis.call('HINCRBY', key, 'fail:' .. ARGV[2], 1)
touch()
return {'closed', ''}
`;

// ARGV[5] open for (ms), ARGV[6] reason, ARGV[7] longest open period (ms). Returns the state before.
const FORCE_OPEN = `${PRELUDE}
local before = 'closed'
if state == 'open' then before = (now < open_until and 'open') or 'half-open' end
local ms = tonumber(ARGV[5])
local until_ms = now + ms
if state == 'open' and open_until > until_ms then until_ms = open_until end
open(until_ms, math.min(ms, tonumber(ARGV[7])), ARGV[6])
return before
`;

type WithBreakerScripts = Redis & {
  fluxqBreakerAcquire(
    key: string,
    ...args: string[]
  ): Promise<[0, 'open' | 'half-open', string] | [1, 0 | 1]>;
  fluxqBreakerSuccess(key: string, ...args: string[]): Promise<[CircuitState, CircuitState | '']>;
  fluxqBreakerFailure(key: string, ...args: string[]): Promise<[CircuitState, CircuitState | '']>;
  fluxqBreakerForceOpen(key: string, ...args: string[]): Promise<CircuitState>;
};

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
  if (!('fluxqBreakerAcquire' in redis)) {
    redis.defineCommand('fluxqBreakerAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('fluxqBreakerSuccess', { numberOfKeys: 1, lua: SUCCESS });
    redis.defineCommand('fluxqBreakerFailure', { numberOfKeys: 1, lua: FAILURE });
    redis.defineCommand('fluxqBreakerForceOpen', { numberOfKeys: 1, lua: FORCE_OPEN });
  }
  const scripted = redis as WithBreakerScripts;
  const report = (key: string, from: CircuitState | '', to: CircuitState) => {
    if (from !== '' && from !== to) options.onTransition?.({ key, from, to });
    return to;
  };
  const keyOf = (key: string) => `${prefix}breaker:${key}`;
  /** KEYS[1] and the ARGV every script starts with. */
  const common = (key: string): [string, string, string, string, string] => {
    const t = Math.floor(now());
    return [keyOf(key), String(t), String(bucketIndex(t, bucketMs)), String(WINDOW_BUCKETS), keepMs];
  };

  return {
    async acquire(key) {
      const reply = await scripted.fluxqBreakerAcquire(...common(key), String(probeLeaseMs), String(openMs));
      if (reply[0] === 1) {
        if (reply[1] === 1) report(key, 'open', 'half-open');
        return { allowed: true, probe: reply[1] === 1 };
      }
      return { allowed: false, state: reply[1], retryAtMs: Number(reply[2]) };
    },

    async recordSuccess(key, _outcome) {
      const [to, from] = await scripted.fluxqBreakerSuccess(...common(key));
      return report(key, from, to);
    },

    async recordFailure(key, { probe, source = '' }) {
      const [to, from] = await scripted.fluxqBreakerFailure(
        ...common(key),
        probe ? '1' : '0',
        String(minRequests),
        String(failureRatio),
        String(openMs),
        String(maxOpenMs),
        String(streakToOpen),
        source.replace(/\s+/g, '_'),
      );
      return report(key, from, to);
    },

    async forceOpen(key, ms, reason = 'forced') {
      const from = await scripted.fluxqBreakerForceOpen(
        ...common(key),
        String(Math.ceil(ms)),
        reason,
        String(maxOpenMs),
      );
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
