import type { JobErrorCode, JobRecord } from '@fluxq/core';
import { backoffDelayMs, latencySeries } from '@fluxq/resilience';
import type { ProcessorDeps } from '../deps.js';
import type { JobFailure } from './job-failure.js';

/**
 * Different jobs failing in a row (this one included) that make a failure an outage's,
 * whose attempt is given back. Three: with Turbo's 8 % failure rate two natural failures in
 * a row happen to 0.6 % of jobs, and an extra attempt for them costs little.
 */
export const OUTAGE_STREAK = 3;

/**
 * The job's first failed attempt, a failure fal reported (counted by the breaker, no
 * Retry-After), and no other job's failure right before it: one runner's failure, not fal's.
 */
function isLoneFailure(failed: FailedAttempt, streak: number): boolean {
  const { failure, attempt } = failed;
  return attempt === 1 && failure.breaker === 'count' && failure.retryAfterMs === undefined && streak <= 1;
}

/** What the processor does after a failed attempt. */
export type NextStep =
  | { kind: 'fail'; code: JobErrorCode; message: string }
  /** Put the job back after `delayMs`; `countsAttempt` is false for attempts lost to a fal outage. */
  | { kind: 'retry'; delayMs: number; countsAttempt: boolean; reason: string }
  /** fal said 429: slow the whole queue for `delayMs`; no attempt spent. */
  | { kind: 'rate-limit'; delayMs: number };

export interface FailedAttempt {
  record: JobRecord;
  failure: JobFailure;
  /** 1-based number of this attempt among the counted ones. */
  attempt: number;
  probe: boolean;
  deadlineMs: number;
}

/**
 * One retry layer (ours): applies the failure's breaker effect, then decides between
 * failing, retrying (at once after a lone runner failure, else after capped exponential
 * backoff with full jitter; Retry-After honoured, retry budget respected) and slowing the queue. While the breaker is not
 * closed a failed attempt is not counted: an outage shorter than the deadline fails no job.
 */
export async function decideNextStep(failed: FailedAttempt, deps: ProcessorDeps): Promise<NextStep> {
  const { record, failure, attempt, probe, deadlineMs } = failed;
  const { breaker, retryBudget } = deps.resilience;
  const { settings } = deps;
  const fail = (message = failure.message): NextStep => ({ kind: 'fail', code: failure.code, message });

  if (failure.breaker === 'open') {
    deps.logger.error(
      { model: record.model, code: failure.code },
      'fal refused our credentials: check FAL_KEY; the breaker stays open for this model',
    );
    await breaker.forceOpen(record.model, settings.authBreakerOpenMs, failure.code);
  } else if (failure.breaker === 'count') {
    await breaker.recordFailure(record.model, { probe, source: record.id });
  }

  if (failure.action === 'fail') return fail();
  if (failure.action === 'rate-limit') {
    return {
      kind: 'rate-limit',
      delayMs: failure.retryAfterMs ?? backoffDelayMs(attempt, settings.backoff),
    };
  }

  const now = deps.now();
  const state = await breaker.state(record.model);
  // Failing for everyone, not for this job: the breaker is open, or other jobs' requests
  // failed right before this one with no success between (the breaker may not have opened yet).
  const outage =
    probe || state.state !== 'closed' || (failure.breaker === 'count' && state.streak >= OUTAGE_STREAK);
  if (!outage && attempt >= settings.maxAttempts) {
    return fail(`${failure.message} (after ${attempt} attempts)`);
  }
  let delayMs = backoffDelayMs(Math.max(1, outage ? attempt - 1 : attempt), settings.backoff, {
    retryAfterMs: failure.retryAfterMs,
  });
  let reason = 'backoff';
  if (outage) {
    // Come back when the breaker may let a probe through, spread so not all at once.
    const untilOpenEndsMs = Math.max(0, (state.openUntilMs ?? now) - now);
    delayMs = Math.max(delayMs, untilOpenEndsMs + Math.random() * Math.max(100, untilOpenEndsMs * 0.2));
    reason = 'breaker open';
  } else if (!(await retryBudget.tryConsume(latencySeries(record.model, record.operation)))) {
    // Retries are over their share of traffic: wait instead of adding load to a struggling fal.
    delayMs = Math.max(delayMs, settings.backoff.capMs);
    reason = 'retry budget spent';
  } else if (isLoneFailure(failed, state.streak)) {
    // One runner failed while fal serves everyone else: another runner takes the retry, and
    // waiting only adds to the job's latency (a Turbo failure already costs about one whole
    // latency). Backoff spreads retries of failures that repeat, which this is not.
    delayMs = 0;
    reason = 'lone failure';
  }
  if (now + delayMs > deadlineMs) return fail(`${failure.message} (job deadline reached)`);
  return { kind: 'retry', delayMs, countsAttempt: !outage, reason };
}
