import { randomInt } from 'node:crypto';
import {
  type Dimensions,
  FAL_MAX_IMAGES_PER_REQUEST,
  type JobRecord,
  priceRequest,
  resolveOutputSize,
  splitImageCount,
} from '@fluxq/core';
import { latencySeries } from '@fluxq/resilience';
import type { ProcessorDeps } from '../deps.js';
import type { AttemptContext, HedgePlan } from './attempt-context.js';
import { closeAttempt } from './attempt-log.js';
import { awaitChunk, type ChunkResult } from './chunk-race.js';
import { cancelAtFal, slotOf } from './fal-submit.js';
import { prepareInputs } from './prepare-inputs.js';
import { storeOutputs } from './store-outputs.js';

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

/** The job's base seed: the one asked for, else the one its earlier requests used. */
function baseSeedOf(record: JobRecord): number {
  if (record.input.seed !== null && record.input.seed !== undefined) return record.input.seed;
  const earlier = record.fal_requests[0];
  return earlier ? earlier.seed - earlier.chunk * FAL_MAX_IMAGES_PER_REQUEST : randomInt(0, 2 ** 31);
}

/** Timeout and hedge points for this attempt, from the latency distributions all workers share. */
export async function attemptTimings(
  record: JobRecord,
  deps: ProcessorDeps,
): Promise<{ requestTimeoutMs: number; hedge: HedgePlan | undefined }> {
  const { attemptTimeout, hedge } = deps.settings;
  const snapshot = await deps.resilience.latency.snapshot(latencySeries(record.model, record.operation));
  const requestTimeoutMs = Math.min(
    attemptTimeout.maxMs,
    Math.max(attemptTimeout.minMs, snapshot.quantile(attemptTimeout.percentile)),
  );
  if (!hedge.priorities.includes(record.priority)) return { requestTimeoutMs, hedge: undefined };
  const afterMs = snapshot.quantile(hedge.percentile);
  const medianMs = snapshot.quantile(0.5);
  return {
    requestTimeoutMs,
    hedge: {
      // Counted from the job's first submit to fal, so a retry of a job that already lost time
      // to a failed attempt is hedged sooner; but never before its own request reached the
      // median. Not from the attempt's start: preparing the inputs is not in the distribution.
      slowAtMs: (ref) => {
        const earliest = (record.attempt_log ?? []).find((attempt) => attempt.requests.length > 0)
          ?.requests[0];
        const firstSubmitMs = Math.min(earliest?.submitted_ms ?? ref.submitted_at, ref.submitted_at);
        return Math.max(ref.submitted_at + Math.min(afterMs, medianMs), firstSubmitMs + afterMs);
      },
      queuedAfterMs: hedge.queuePercentile < 1 ? snapshot.queueQuantile(hedge.queuePercentile) : undefined,
    },
  };
}

/**
 * The winning request's time: submit → result, of the slowest chunk (the job waits for all
 * of them). A failed attempt's or a lost hedge's time is not in it; `attempt_log` has those.
 */
function winningRequestMs(results: readonly ChunkResult[], doneMs: number): number {
  return Math.max(0, ...results.map((result) => doneMs - result.ref.submitted_at));
}

/** Runs one attempt of an image job: inputs → fal (hedged, resumable) → our storage → the record. */
export async function runAttempt(ctx: Omit<AttemptContext, 'size' | 'falUrls'>): Promise<void> {
  const { record, deps } = ctx;
  const inputs = await prepareInputs(record, deps, ctx.signal);
  const size = await outputSize(record, inputs.dimensions[0], deps);
  const full: AttemptContext = { ...ctx, size, falUrls: inputs.falUrls };
  const baseSeed = baseSeedOf(record);
  const chunks = splitImageCount(record.input.n).map((count, chunk) =>
    awaitChunk(full, { chunk, num_images: count, seed: baseSeed + chunk * FAL_MAX_IMAGES_PER_REQUEST }),
  );
  const results = await Promise.all(chunks);
  const providerDoneMs = deps.now();
  const output = await storeOutputs(
    record,
    results.map((result) => result.output),
    deps,
    ctx.signal,
  );
  // Lost hedges were being cancelled at fal while the output was stored; done before the job says so.
  await Promise.all(results.map((result) => result.cleanup));
  const completedMs = deps.now();
  closeAttempt(record, { outcome: 'succeeded', nowMs: completedMs });
  const cost = priceRequest({
    model: record.model,
    references: inputs.dimensions,
    output: size,
    n: record.input.n,
  });
  await deps.lifecycle.succeed(record, completedMs, {
    output,
    timings: {
      queue_ms: (record.started_ms ?? completedMs) - record.created_ms,
      provider_ms: winningRequestMs(results, providerDoneMs),
      total_ms: completedMs - record.created_ms,
    },
    attempt_log: record.attempt_log,
    cost,
  });
}

/** A canceled job's requests still at fal are cancelled there and their slots freed. */
export async function cancelOutstanding(record: JobRecord, deps: ProcessorDeps): Promise<void> {
  const fresh = await deps.store.get(record.id);
  const ctx = { deps } as AttemptContext;
  await Promise.all(
    (fresh?.fal_requests ?? []).map(async (ref) => {
      await cancelAtFal(ctx, ref);
      await deps.resilience.slots.release(slotOf(ref)).catch(() => {});
    }),
  );
}
