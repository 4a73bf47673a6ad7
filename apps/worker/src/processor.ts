import {
  type Dimensions,
  type ImageJobData,
  type JobRecord,
  priceRequest,
  resolveOutputSize,
} from '@fluxq/core';
import { type Job, UnrecoverableError } from 'bullmq';
import type { ProcessorDeps } from './deps.js';
import { awaitFalResult, ensureFalRequests, JobCanceledError } from './fal-requests.js';
import { classifyFailure } from './job-failure.js';
import { prepareInputs } from './prepare-inputs.js';
import { storeOutputs } from './store-outputs.js';

const toSeconds = (ms: number) => Math.floor(ms / 1000);

async function outputSize(
  record: JobRecord,
  firstInput: Dimensions | undefined,
  deps: ProcessorDeps,
): Promise<Dimensions> {
  if (record.input.width !== null && record.input.height !== null) {
    return { width: record.input.width, height: record.input.height };
  }
  const size = resolveOutputSize(record.input.size_rule, firstInput);
  record.input = { ...record.input, ...size, size: `${size.width}x${size.height}` };
  await deps.store.update(record.id, { input: record.input });
  return size;
}

/** Runs one attempt of an image job: inputs → fal → our storage → the job record. */
async function runAttempt(record: JobRecord, deps: ProcessorDeps, signal?: AbortSignal): Promise<void> {
  const attemptStartedMs = deps.now();
  const inputs = await prepareInputs(record, deps, signal);
  const size = await outputSize(record, inputs.dimensions[0], deps);
  const refs = await ensureFalRequests(record, size, inputs.falUrls, deps, signal);
  const deadlineMs = attemptStartedMs + deps.settings.attemptTimeoutMs;
  const results = await Promise.all(
    refs.map((ref) => awaitFalResult(record, ref, deps, { deadlineMs, signal })),
  );
  const providerDoneMs = deps.now();
  const output = await storeOutputs(record, results, deps, signal);
  const completedMs = deps.now();
  const firstSubmitMs = Math.min(...refs.map((ref) => ref.submitted_at));
  await deps.store.update(
    record.id,
    {
      status: 'succeeded',
      output,
      error: null,
      completed_at: toSeconds(completedMs),
      timings: {
        queue_ms: (record.started_ms ?? completedMs) - record.created_ms,
        provider_ms: providerDoneMs - firstSubmitMs,
        total_ms: completedMs - record.created_ms,
      },
      cost: priceRequest({
        model: record.model,
        references: inputs.dimensions,
        output: size,
        n: record.input.n,
      }),
    },
    { ifStatusIn: ['running'] },
  );
}

/**
 * The BullMQ processor for `image` jobs. A transient failure is thrown so BullMQ
 * retries with backoff; a permanent one (or the last attempt) marks the job failed
 * and throws `UnrecoverableError`.
 */
export function createImageProcessor(deps: ProcessorDeps) {
  return async function processImageJob(
    job: Job<ImageJobData>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const { jobId } = job.data;
    const record = await deps.store.get(jobId);
    if (!record) throw new UnrecoverableError(`job record ${jobId} is missing`);
    const nowMs = deps.now();
    const attempt = job.attemptsMade + 1;
    const startedMs = record.started_ms ?? nowMs;
    const started = await deps.store.update(
      jobId,
      { status: 'running', attempts: attempt, started_ms: startedMs, started_at: toSeconds(startedMs) },
      { ifStatusIn: ['queued', 'running'] },
    );
    // Canceled (or already finished by an earlier run): nothing to do.
    if (!started?.applied) return;
    record.started_ms = startedMs;
    const log = deps.logger.child({ jobId, attempt, model: record.model, operation: record.operation });
    log.debug('attempt started');

    try {
      await runAttempt(record, deps, signal);
      log.info('job succeeded');
    } catch (err) {
      if (err instanceof JobCanceledError) {
        log.info('job canceled while running');
        return;
      }
      const failure = classifyFailure(err);
      const last = !failure.retryable || attempt >= (job.opts.attempts ?? 1);
      log.warn({ err, code: failure.code, retryable: failure.retryable, last }, 'attempt failed');
      if (!last) throw err;
      const completedMs = deps.now();
      await deps.store.update(
        jobId,
        {
          status: 'failed',
          error: { code: failure.code, message: failure.message },
          completed_at: toSeconds(completedMs),
          timings: {
            queue_ms: startedMs - record.created_ms,
            provider_ms: null,
            total_ms: completedMs - record.created_ms,
          },
        },
        { ifStatusIn: ['queued', 'running'] },
      );
      throw new UnrecoverableError(`${failure.code}: ${failure.message}`);
    }
  };
}
