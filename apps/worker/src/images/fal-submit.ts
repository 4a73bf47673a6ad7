import { randomUUID } from 'node:crypto';
import { type FalRequestRef, MODELS, modelForFalEndpoint } from '@fluxq/core';
import { latencySeries } from '@fluxq/resilience';
import { BreakerOpenError } from '../errors.js';
import { metricsOf } from '../metrics/metrics-of.js';
import type { AttemptContext } from './attempt-context.js';
import { logRequest } from './attempt-log.js';
import { falInputFor } from './fal-input.js';
import { recordSubmitAtFal } from './job-running.js';

export interface ChunkSpec {
  chunk: number;
  num_images: number;
  seed: number;
  hedge?: boolean;
}

/**
 * Takes an account-concurrency slot, submits one fal request and records its id on the
 * job before anything waits on it, so a re-run after a crash resumes it instead of
 * paying for a new one. A submit is never retried blindly: fal has no idempotency key.
 */
export async function submitFalRequest(
  ctx: AttemptContext,
  spec: ChunkSpec,
  /** A slot the caller already holds (from `newSlotId`); else one is waited for. */
  heldSlot?: string,
): Promise<FalRequestRef> {
  const { record, deps } = ctx;
  const { settings, resilience } = deps;
  const endpoint = MODELS[record.model].falEndpoints[record.operation];
  const slot = heldSlot ?? slotFor(record, spec);
  if (!heldSlot) await resilience.slots.acquire(slot, ctx.signal);
  let requestId: string;
  try {
    // The wait for a slot can be long: if fal started failing meanwhile, don't add to it.
    if (!ctx.probe && !spec.hedge) await assertBreakerClosed(ctx);
    const submitted = await deps.fal.submit(endpoint, falInputFor(record, ctx.size, ctx.falUrls, spec), {
      startTimeoutS: settings.startTimeoutS,
      ...(settings.falWebhookUrl ? { webhookUrl: settings.falWebhookUrl } : {}),
      signal: ctx.signal,
    });
    requestId = submitted.requestId;
    metricsOf(deps).falSubmitted(record, spec.hedge ? 'hedge' : ctx.firstAttempt ? 'first' : 'retry');
  } catch (err) {
    await resilience.slots.release(slot).catch(() => {});
    throw err;
  }
  const ref: FalRequestRef = {
    endpoint,
    request_id: requestId,
    chunk: spec.chunk,
    num_images: spec.num_images,
    seed: spec.seed,
    submitted_at: deps.now(),
    slot,
    ...(spec.hedge ? { hedge: true } : {}),
  };
  // On the record before anything waits on it; with the job's start when it is its first request.
  record.fal_requests = [...record.fal_requests, ref];
  logRequest(record, ref);
  await recordSubmitAtFal(record, deps);
  if (ctx.firstAttempt && !spec.hedge) {
    const series = latencySeries(record.model, record.operation);
    await Promise.all([
      resilience.retryBudget.recordSubmission(series),
      resilience.hedgeBudget.recordSubmission(series),
    ]);
  }
  return ref;
}

/**
 * The lease a submit takes: the job's own (granted with the job, lease = job id) for the first
 * request of chunk 0, else one of its own, queued under the job's class and tenant.
 */
function slotFor(record: AttemptContext['record'], spec: ChunkSpec): string {
  const ownInUse = record.fal_requests.some((ref) => slotOf(ref) === record.id);
  if (spec.chunk === 0 && !spec.hedge && !ownInUse) return record.id;
  return newSlotId(record.id, spec.chunk);
}

/** A fresh slot lease id for a request of chunk `chunk` of job `jobId`. */
export const newSlotId = (jobId: string, chunk: number) => `${jobId}:${chunk}:${randomUUID()}`;

async function assertBreakerClosed(ctx: AttemptContext): Promise<void> {
  const { state } = await ctx.deps.resilience.breaker.state(ctx.record.model);
  if (state !== 'closed')
    throw new BreakerOpenError(`fal is failing for ${ctx.record.model}; breaker ${state}`);
}

/** Drops a fal request from the job (it can give no result, or it lost a hedge race). */
export async function forgetFalRequest(ctx: AttemptContext, ref: FalRequestRef): Promise<void> {
  const { record, deps } = ctx;
  record.fal_requests = record.fal_requests.filter((r) => r.request_id !== ref.request_id);
  await deps.store.update(record.id, { fal_requests: record.fal_requests });
}

/** The slot lease of a request; requests recorded before slots existed use their request id. */
export const slotOf = (ref: FalRequestRef) => ref.slot ?? ref.request_id;

/** Cancels at fal without failing the caller: a cancel that fails only costs a generation. */
export async function cancelAtFal(ctx: AttemptContext, ref: FalRequestRef): Promise<void> {
  // cancelOutstanding passes a context without the record: the endpoint names the model.
  const model = ctx.record?.model ?? modelForFalEndpoint(ref.endpoint)?.model.id;
  try {
    await ctx.deps.fal.cancel(ref.endpoint, ref.request_id);
    metricsOf(ctx.deps).falCanceled(model, true);
  } catch (err) {
    metricsOf(ctx.deps).falCanceled(model, false);
    ctx.deps.logger.warn({ err, requestId: ref.request_id }, 'fal cancel failed');
  }
}
