import type { ImageJobData, JobErrorCode, JobRecord } from '@fluxq/core';
import { TERMINAL_EVENTS } from '@fluxq/queue';
import { DelayedError, type Job, RateLimitError, UnrecoverableError } from 'bullmq';
import type { ProcessorDeps } from '../deps.js';
import { WORKER_ERROR_CODES, workerErrorCodeOf } from '../errors.js';
import { metricsOf } from '../metrics/metrics-of.js';
import { closeAttempt, interruptedAttempt, openAttempt } from './attempt-log.js';
import { watchForCancel } from './cancel-watch.js';
import { classifyFailure } from './job-failure.js';
import { decideNextStep } from './next-step.js';
import { attemptTimings, cancelOutstanding, runAttempt } from './run-attempt.js';

/**
 * The BullMQ processor for `image` jobs. Retries are ours, not BullMQ's: a failed attempt
 * is put back with `moveToDelayed` after the backoff `decideNextStep` chose, a 429 slows
 * the whole queue without spending an attempt, and a permanent failure (or the last
 * attempt, or the deadline) marks the job failed and throws `UnrecoverableError`.
 */
export function createImageProcessor(deps: ProcessorDeps) {
  return async function processImageJob(
    job: Job<ImageJobData>,
    token?: string,
    bullSignal?: AbortSignal,
  ): Promise<void> {
    const { jobId } = job.data;
    const record = await deps.store.get(jobId);
    if (!record) throw new UnrecoverableError(`job record ${jobId} is missing`);
    if (record.status !== 'queued' && record.status !== 'running') {
      // Finished (or canceled after its grant) by an earlier run that may have died before
      // queuing its webhook; whatever it was granted goes to the next job.
      await deps.capacity?.abandon(record);
      await deps.lifecycle.settle(jobId, TERMINAL_EVENTS[record.status]);
      return;
    }
    const delayJob = async (delayMs: number): Promise<never> => {
      await job.moveToDelayed(deps.now() + delayMs, token);
      throw new DelayedError();
    };

    // Listening from here on: a cancel while the job waits for its slot or runs is heard at once.
    const cancel = watchForCancel(deps.statusFeed, jobId);
    try {
      const grant = await holdCapacity(record, job.data, cancel.signal, bullSignal, deps);
      if (grant === 'canceled') return;
      try {
        await runGranted(record, job, { bullSignal, canceled: cancel.signal, delayJob }, deps);
      } finally {
        await grant.release();
      }
    } finally {
      cancel.stop();
    }
  };
}

/**
 * The job's fal capacity for this attempt: its slot and its tenant's running-job lease, granted
 * by the scheduler in order; a job that arrives without them (a retry, a resumed job) waits for
 * them here.
 */
async function holdCapacity(
  record: JobRecord,
  data: ImageJobData,
  canceled: AbortSignal,
  bullSignal: AbortSignal | undefined,
  deps: ProcessorDeps,
): Promise<{ release(): Promise<void> } | 'canceled'> {
  try {
    return await deps.capacity.enter(
      record,
      data,
      AbortSignal.any([canceled, ...(bullSignal ? [bullSignal] : [])]),
    );
  } catch (err) {
    if (canceled.aborted) return 'canceled';
    throw err;
  }
}

interface GrantedRun {
  bullSignal: AbortSignal | undefined;
  canceled: AbortSignal;
  delayJob: (delayMs: number) => Promise<never>;
}

/** With its capacity held: waits out an open breaker (no attempt spent) or runs one attempt. */
async function runGranted(
  record: JobRecord,
  job: Job<ImageJobData>,
  run: GrantedRun,
  deps: ProcessorDeps,
): Promise<void> {
  const { jobId } = job.data;
  const { delayJob, bullSignal } = run;
  const deadlineMs = (record.started_ms ?? deps.now()) + deps.settings.jobDeadlineMs;
  // While fal is failing, wait for the breaker instead of spending an attempt.
  const gate = await deps.resilience.breaker.acquire(record.model);
  if (!gate.allowed) {
    if (record.started_ms !== null && gate.retryAtMs > deadlineMs) {
      return await failJob(
        record,
        'provider_error',
        `fal has been failing for ${record.model}; the job deadline passed`,
        deps,
      );
    }
    deps.logger.debug(
      { jobId, retryAtMs: gate.retryAtMs, state: gate.state },
      'breaker not closed; job delayed',
    );
    const spreadMs = Math.random() * 250;
    return await delayJob(Math.max(0, gate.retryAtMs - deps.now()) + spreadMs);
  }
  await runOneAttempt(
    { record, probe: gate.probe, deadlineMs, canceled: run.canceled, bullSignal, delayJob },
    deps,
  );
}

interface AttemptRun {
  record: JobRecord;
  /** This attempt holds the breaker's half-open probe. */
  probe: boolean;
  deadlineMs: number;
  /** Aborted the moment the job is canceled. */
  canceled: AbortSignal;
  bullSignal: AbortSignal | undefined;
  delayJob: (delayMs: number) => Promise<never>;
}

/**
 * One attempt: marks the job running, runs it, and on failure decides between failing,
 * retrying later and slowing the queue. A job whose worker died mid-attempt continues
 * that attempt (resuming its fal requests) rather than starting, and paying for, a new one.
 */
async function runOneAttempt(run: AttemptRun, deps: ProcessorDeps): Promise<void> {
  const { record, probe, deadlineMs } = run;
  const jobId = record.id;
  const resumed = interruptedAttempt(record) !== undefined;
  const attempt = resumed ? Math.max(1, record.attempts) : record.attempts + 1;
  // Internal: when its first attempt began (timings, the deadline). The public `started_at`
  // and `running` come with the first fal submit (recordSubmitAtFal): until then it is `queued`.
  const startedMs = record.started_ms ?? deps.now();
  openAttempt(record, attempt, deps.now());
  const started = await deps.store.update(
    jobId,
    { attempts: attempt, started_ms: startedMs, attempt_log: record.attempt_log },
    { ifStatusIn: ['queued', 'running'] },
  );
  // Canceled (or already finished by an earlier run): nothing to do.
  if (!started?.applied) return;
  record.started_ms = startedMs;
  record.attempts = attempt;
  const log = deps.logger.child({ jobId, model: record.model, operation: record.operation, attempt, probe });
  log.debug({ resumed }, 'attempt started');

  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, run.canceled, ...(run.bullSignal ? [run.bullSignal] : [])]);
  try {
    const timings = await attemptTimings(record, deps);
    await runAttempt({ record, deps, signal, probe, ...timings, deadlineMs, firstAttempt: attempt === 1 });
    log.info('job succeeded');
  } catch (err) {
    stop.abort();
    if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
    if (workerErrorCodeOf(err) === WORKER_ERROR_CODES.JOB_CANCELED || run.canceled.aborted) {
      log.info('job canceled while running');
      closeAttempt(record, { outcome: 'canceled', nowMs: deps.now() });
      await deps.store.update(jobId, { attempt_log: record.attempt_log });
      metricsOf(deps).jobFinished(record, {
        status: 'canceled',
        errorCode: 'canceled',
        totalMs: deps.now() - record.created_ms,
      });
      await cancelOutstanding(record, deps);
      return;
    }
    const failure = classifyFailure(err);
    const next = await decideNextStep({ record, failure, attempt, probe, deadlineMs }, deps);
    log.warn({ err, code: failure.code, action: failure.action, next }, 'attempt failed');
    if (next.kind === 'fail') {
      await failJob(record, next.code, next.message, deps);
      return;
    }
    // The attempt is given back when it was lost to a 429 or a fal outage.
    const countsAttempt = next.kind === 'retry' && next.countsAttempt;
    closeAttempt(record, {
      outcome: 'retried',
      nowMs: deps.now(),
      errorCode: failure.code,
      counted: countsAttempt,
    });
    await deps.store.update(
      jobId,
      {
        attempts: countsAttempt ? attempt : attempt - 1,
        error: { code: failure.code, message: failure.message },
        attempt_log: record.attempt_log,
      },
      { ifStatusIn: ['queued', 'running'] },
    );
    if (next.kind === 'rate-limit') {
      metricsOf(deps).falRateLimited(record);
      // Redis refuses a 0 ms expiry, and a 429 without Retry-After still deserves a pause.
      await deps.rateLimit(Math.max(100, next.delayMs));
      throw new RateLimitError();
    }
    metricsOf(deps).retryScheduled(record, { errorCode: failure.code, reason: next.reason });
    await run.delayJob(next.delayMs);
  }
}

/** Marks the job failed (once, through the lifecycle) and stops BullMQ from retrying it. */
async function failJob(
  record: JobRecord,
  code: JobErrorCode,
  message: string,
  deps: ProcessorDeps,
): Promise<never> {
  const completedMs = deps.now();
  closeAttempt(record, { outcome: 'failed', nowMs: completedMs, errorCode: code });
  await deps.lifecycle.fail(
    record,
    { code, message, completedMs },
    {
      timings: {
        queue_ms: record.started_ms === null ? null : record.started_ms - record.created_ms,
        provider_ms: null,
        total_ms: completedMs - record.created_ms,
      },
      attempt_log: record.attempt_log,
    },
  );
  throw new UnrecoverableError(`${code}: ${message}`);
}
