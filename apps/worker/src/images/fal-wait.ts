import { setTimeout as delay } from 'node:timers/promises';
import type { FalRequestRef } from '@fluxq/core';
import type { FalImageOutput } from '@fluxq/fal';
import { AttemptTimeoutError } from '@fluxq/resilience';
import { JobCanceledError } from '../errors.js';
import type { AttemptContext } from './attempt-context.js';
import { slotOf } from './fal-submit.js';

export interface FalCompletion {
  output: FalImageOutput;
  /** Time in fal's queue and on a runner, when fal's status told us. */
  queueMs?: number;
  runMs?: number;
  /** When a status poll first found it in progress, if one did. Unit: ms timestamp. */
  runningSinceMs?: number;
}

/**
 * Waits for one fal request to complete and returns its output, or throws fal's error.
 * Status is polled; with fal webhooks on, a verified webhook wakes the wait at once and
 * polling drops to a slow fallback for lost webhooks. Past the request timeout the
 * request is left to the caller to cancel.
 */
export async function awaitFalRequest(
  ctx: AttemptContext,
  ref: FalRequestRef,
  signal: AbortSignal,
): Promise<FalCompletion> {
  const { deps } = ctx;
  const { fal, settings, resilience } = deps;
  const deadlineMs = Math.min(ref.submitted_at + ctx.requestTimeoutMs, ctx.deadlineMs);
  const intervalMs = resilience.completions ? settings.webhookPollIntervalMs : settings.pollIntervalMs;
  let runningSinceMs: number | undefined;
  for (;;) {
    const status = await fal.status(ref.endpoint, ref.request_id, { signal });
    if (status.status === 'IN_PROGRESS') runningSinceMs ??= deps.now();
    if (status.status === 'COMPLETED') {
      // fal no longer counts it against the account: its slot goes to the next job now, not
      // after the result is fetched (freeing it again later is a no-op).
      void resilience.slots.release(slotOf(ref)).catch(() => {});
      const output = (await fal.result(ref.endpoint, ref.request_id, { signal })).data;
      const totalMs = deps.now() - ref.submitted_at;
      const runMs =
        status.inferenceTimeS !== undefined
          ? status.inferenceTimeS * 1000
          : runningSinceMs !== undefined
            ? deps.now() - runningSinceMs
            : undefined;
      return {
        output,
        ...(runMs === undefined ? {} : { runMs, queueMs: Math.max(0, totalMs - runMs) }),
        ...(runningSinceMs === undefined ? {} : { runningSinceMs }),
      };
    }
    if ((await deps.store.status(ctx.record.id)) === 'canceled') {
      throw new JobCanceledError(`job ${ctx.record.id} was canceled`);
    }
    const leftMs = deadlineMs - deps.now();
    if (leftMs <= 0) {
      throw new AttemptTimeoutError(
        `fal request ${ref.request_id} did not finish within ${ctx.requestTimeoutMs} ms`,
      );
    }
    const waitMs = Math.min(intervalMs, leftMs);
    if (resilience.completions) await resilience.completions.wait(ref.request_id, waitMs, signal);
    else await delay(waitMs, undefined, { signal });
  }
}
