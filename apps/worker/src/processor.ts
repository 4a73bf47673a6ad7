import { type ImageJobData, type JobErrorCode, unixSeconds } from '@fluxq/core';
import { DelayedError, type Job, RateLimitError, UnrecoverableError } from 'bullmq';
import type { ProcessorDeps } from './deps.js';
import { JobCanceledError } from './fal-wait.js';
import { classifyFailure } from './job-failure.js';
import { emitStored, TERMINAL_EVENTS } from './job-webhook-events.js';
import { decideNextStep } from './next-step.js';
import { attemptTimings, cancelOutstanding, runAttempt } from './run-attempt.js';
import { tenantWaitMs } from './tenant-gate.js';

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
      // Finished by an earlier run that may have died before queuing its webhook.
      await emitStored(jobId, TERMINAL_EVENTS[record.status], deps);
      return;
    }
    const nowMs = deps.now();
    const startedMs = record.started_ms ?? nowMs;
    const deadlineMs = startedMs + deps.settings.jobDeadlineMs;
    const log = deps.logger.child({ jobId, model: record.model, operation: record.operation });

    const fail = async (code: JobErrorCode, message: string): Promise<never> => {
      const completedMs = deps.now();
      await deps.store.update(
        jobId,
        {
          status: 'failed',
          error: { code, message },
          completed_at: unixSeconds(completedMs),
          timings: {
            queue_ms: startedMs - record.created_ms,
            provider_ms: null,
            total_ms: completedMs - record.created_ms,
          },
        },
        { ifStatusIn: ['queued', 'running'] },
      );
      await emitStored(jobId, 'job.failed', deps);
      throw new UnrecoverableError(`${code}: ${message}`);
    };
    const delayJob = async (delayMs: number): Promise<never> => {
      await job.moveToDelayed(deps.now() + delayMs, token);
      throw new DelayedError();
    };

    // The tenant's running-jobs limit: with every slot taken the job waits in the queue, no
    // attempt spent and not marked running. Held until the attempt ends (before the breaker,
    // so a job sent back here never holds the breaker's half-open probe).
    const tenantSlot = await deps.tenantGate?.enter(record.tenant, jobId, job.data.maxRunning);
    if (tenantSlot === null) return delayJob(tenantWaitMs());
    try {
      // While fal is failing, wait for the breaker instead of spending an attempt.
      const gate = await deps.resilience.breaker.acquire(record.model);
      if (!gate.allowed) {
        if (record.started_ms !== null && gate.retryAtMs > deadlineMs) {
          return fail('provider_error', `fal has been failing for ${record.model}; the job deadline passed`);
        }
        log.debug({ retryAtMs: gate.retryAtMs, state: gate.state }, 'breaker not closed; job delayed');
        const spreadMs = Math.random() * 250;
        return delayJob(Math.max(0, gate.retryAtMs - deps.now()) + spreadMs);
      }

      const attempt = record.attempts + 1;
      const started = await deps.store.update(
        jobId,
        { status: 'running', attempts: attempt, started_ms: startedMs, started_at: unixSeconds(startedMs) },
        { ifStatusIn: ['queued', 'running'] },
      );
      // Canceled (or already finished by an earlier run): nothing to do.
      if (!started?.applied) return;
      await deps.tenantGate?.markLeftQueue(record.tenant, jobId);
      if (started.previous === 'queued') await emitStored(jobId, 'job.started', deps);
      record.started_ms = startedMs;
      record.attempts = attempt;
      const attemptLog = log.child({ attempt, probe: gate.probe });
      attemptLog.debug('attempt started');

      const stop = new AbortController();
      const signal = bullSignal ? AbortSignal.any([bullSignal, stop.signal]) : stop.signal;
      try {
        const timings = await attemptTimings(record, deps);
        await runAttempt({
          record,
          deps,
          signal,
          probe: gate.probe,
          ...timings,
          deadlineMs,
          firstAttempt: attempt === 1,
        });
        attemptLog.info('job succeeded');
        await emitStored(jobId, 'job.succeeded', deps);
      } catch (err) {
        stop.abort();
        if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
        if (err instanceof JobCanceledError) {
          attemptLog.info('job canceled while running');
          await cancelOutstanding(record, deps);
          return;
        }
        const failure = classifyFailure(err);
        const next = await decideNextStep({ record, failure, attempt, probe: gate.probe, deadlineMs }, deps);
        attemptLog.warn({ err, code: failure.code, action: failure.action, next }, 'attempt failed');
        if (next.kind === 'fail') return fail(next.code, next.message);
        // The attempt is given back when it was lost to a 429 or a fal outage.
        const countsAttempt = next.kind === 'retry' && next.countsAttempt;
        await deps.store.update(
          jobId,
          {
            attempts: countsAttempt ? attempt : attempt - 1,
            error: { code: failure.code, message: failure.message },
          },
          { ifStatusIn: ['running'] },
        );
        if (next.kind === 'rate-limit') {
          // Redis refuses a 0 ms expiry, and a 429 without Retry-After still deserves a pause.
          await deps.rateLimit(Math.max(100, next.delayMs));
          throw new RateLimitError();
        }
        return delayJob(next.delayMs);
      }
    } finally {
      await tenantSlot?.release();
    }
  };
}
