import { setTimeout as delay } from 'node:timers/promises';
import type { FalRequestRef, HedgeDecision, RequestOutcome } from '@fluxq/core';
import type { FalImageOutput } from '@fluxq/fal';
import { classifyProviderFailure, failureKindOf, latencySeries } from '@fluxq/resilience';
import type { AttemptContext } from './attempt-context.js';
import { logHedge, logRequest, settleRequest } from './attempt-log.js';
import { type ChunkSpec, cancelAtFal, forgetFalRequest, slotOf, submitFalRequest } from './fal-submit.js';
import { awaitFalRequest, type FalCompletion } from './fal-wait.js';
import { metricsOf } from './metrics/metrics-of.js';

type Settled =
  | { ref: FalRequestRef; ok: true; completion: FalCompletion }
  | { ref: FalRequestRef; ok: false; error: unknown };

interface Racer {
  ref: FalRequestRef;
  stop: AbortController;
  settled: Promise<Settled>;
}

const HEDGE_DUE = Symbol('hedge due');

/** A chunk's output and the request that produced it (the first, a hedge or a resubmit). */
export interface ChunkResult {
  output: FalImageOutput;
  ref: FalRequestRef;
}

/**
 * True when fal itself said the request is over without a usable result: its result
 * answered with an error. Failures to reach fal (transport, our call timeouts, a status
 * poll that failed) say nothing about the request, which may still run or hold its
 * result: the next attempt resumes it.
 */
function endedAtFal(error: unknown): boolean {
  const kind = failureKindOf(error);
  const operation = (error as { operation?: unknown } | null)?.operation;
  return operation === 'result' && kind !== 'FAL_ERR_TRANSPORT' && kind !== 'FAL_ERR_TIMEOUT';
}

/**
 * Waits for one chunk of a job (≤ 4 images, one fal request) and returns the first
 * successful output. Past the tracked p95 an interactive job's request is hedged with a
 * second one (within the hedge budget, only while the breaker is closed); the first
 * success wins and the other is cancelled at fal. A request fal lost (404) is submitted
 * again once. Other failures end the chunk once no request is left running.
 */
export async function awaitChunk(ctx: AttemptContext, spec: ChunkSpec): Promise<ChunkResult> {
  const { deps, record } = ctx;
  const { resilience } = deps;
  const racers = new Map<string, Racer>();
  const series = latencySeries(record.model, record.operation);
  const metrics = metricsOf(deps);
  /** Logs how the request ended on the attempt and times it for the metrics. */
  const settle = (ref: FalRequestRef, outcome: RequestOutcome, runningMs?: number) => {
    const nowMs = deps.now();
    settleRequest(record, ref.request_id, {
      outcome,
      nowMs,
      ...(runningMs === undefined ? {} : { runningMs }),
    });
    metrics.falRequestSettled(record, {
      outcome,
      hedge: ref.hedge === true,
      durationMs: nowMs - ref.submitted_at,
    });
  };

  const start = (ref: FalRequestRef) => {
    const stop = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stop.signal]);
    const settled = awaitFalRequest(ctx, ref, signal).then(
      (completion): Settled => ({ ref, ok: true, completion }),
      (error: unknown): Settled => ({ ref, ok: false, error }),
    );
    racers.set(ref.request_id, { ref, stop, settled });
  };

  // A request fal has finished with (success, failure or our cancel) gives its slot back.
  const finishedAtFal = async (ref: FalRequestRef) => {
    await resilience.slots.release(slotOf(ref)).catch(() => {});
  };

  /** Only first requests describe fal's latency; a hedge's time is biased by the race. */
  const recordLatency = async (
    ref: FalRequestRef,
    sample: { ok: boolean; queueMs?: number; runMs?: number },
  ) => {
    if (ref.hedge) return;
    await resilience.latency
      .record(series, { totalMs: deps.now() - ref.submitted_at, ...sample })
      .catch((err: unknown) => deps.logger.warn({ err }, 'could not record a latency sample'));
  };

  for (const ref of record.fal_requests.filter((r) => r.chunk === spec.chunk)) {
    // Resumed after a crash: take the slot again (a no-op while the old lease lives).
    await resilience.slots.acquire(slotOf(ref), ctx.signal);
    logRequest(record, ref);
    start(ref);
  }
  if (racers.size === 0) start(await submitFalRequest(ctx, spec));

  const primary = [...racers.values()][0]!.ref;
  const hedgeTimer = new AbortController();
  let hedgeDue: Promise<typeof HEDGE_DUE> | undefined;
  if (ctx.hedgeAfterMs !== undefined && racers.size === 1 && !primary.hedge) {
    const dueInMs = Math.max(0, primary.submitted_at + ctx.hedgeAfterMs - deps.now());
    hedgeDue = delay(dueInMs, HEDGE_DUE, { signal: hedgeTimer.signal });
    hedgeDue.catch(() => {});
  }
  let resubmitted = false;
  let firstError: unknown;

  try {
    while (racers.size > 0) {
      const next = await Promise.race<Settled | typeof HEDGE_DUE>([
        ...[...racers.values()].map((racer) => racer.settled),
        ...(hedgeDue ? [hedgeDue] : []),
      ]);
      if (next === HEDGE_DUE) {
        hedgeDue = undefined;
        const decision = await hedgeDecision(ctx, series);
        logHedge(record, spec.chunk, decision, deps.now());
        metrics.hedgeDue(record, decision);
        if (decision === 'sent') {
          deps.logger.info(
            { jobId: record.id, chunk: spec.chunk, after: ctx.hedgeAfterMs },
            'hedging a slow fal request',
          );
          start(await submitFalRequest(ctx, { ...spec, hedge: true }));
        }
        continue;
      }
      racers.delete(next.ref.request_id);
      if (ctx.signal.aborted) throw ctx.signal.reason;

      if (next.ok) {
        await finishedAtFal(next.ref);
        await recordLatency(next.ref, {
          ok: true,
          queueMs: next.completion.queueMs,
          runMs: next.completion.runMs,
        });
        await resilience.breaker.recordSuccess(record.model, { probe: ctx.probe });
        settle(next.ref, 'succeeded', next.completion.runningSinceMs);
        await cancelLosers(ctx, [...racers.values()], settle, recordLatency, finishedAtFal);
        racers.clear();
        return { output: next.completion.output, ref: next.ref };
      }

      const rule = classifyProviderFailure(next.error);
      if (next.error instanceof Error && next.error.name === 'AttemptTimeoutError') {
        // Still running at fal: cancel it so it stops counting against the account.
        settle(next.ref, 'canceled');
        await cancelAtFal(ctx, next.ref);
        await finishedAtFal(next.ref);
        await recordLatency(next.ref, { ok: true });
        await forgetFalRequest(ctx, next.ref);
      } else if (rule?.kind === 'FAL_ERR_NOT_FOUND' || endedAtFal(next.error)) {
        // fal lost it or finished it with an error: it will never give a result.
        settle(next.ref, rule?.kind === 'FAL_ERR_NOT_FOUND' ? 'lost' : 'failed');
        await finishedAtFal(next.ref);
        if (rule?.kind !== 'FAL_ERR_NOT_FOUND') await recordLatency(next.ref, { ok: false });
        await forgetFalRequest(ctx, next.ref);
      } else {
        // Not fal's answer about the request (canceled job, trouble reaching fal): it may still run.
        resilience.slots.forget(slotOf(next.ref));
      }
      if (rule?.action === 'resubmit' && !resubmitted) {
        resubmitted = true;
        deps.logger.warn(
          { jobId: record.id, requestId: next.ref.request_id },
          'fal lost the request; submitting again',
        );
        start(await submitFalRequest(ctx, { ...spec, hedge: next.ref.hedge }));
        continue;
      }
      firstError ??= next.error;
      if (!rule) break; // canceled job or our own bug: no point waiting on the others
    }
    throw firstError;
  } finally {
    hedgeTimer.abort();
    for (const racer of racers.values()) {
      // Left running for the next attempt (another chunk failed or the job stopped).
      racer.stop.abort();
      resilience.slots.forget(slotOf(racer.ref));
    }
  }
}

/** Hedges stop while the breaker is not closed (fal is struggling) and stay within budget. */
async function hedgeDecision(ctx: AttemptContext, series: string): Promise<HedgeDecision> {
  const { resilience } = ctx.deps;
  const breaker = await resilience.breaker.state(ctx.record.model);
  if (breaker.state !== 'closed') return 'breaker_not_closed';
  if (await resilience.hedgeBudget.tryConsume(series)) return 'sent';
  ctx.deps.logger.info({ jobId: ctx.record.id }, 'hedge budget spent; not hedging');
  return 'budget_spent';
}

/** The race is won: stop waiting on the others and cancel them at fal (a queued one is not billed). */
async function cancelLosers(
  ctx: AttemptContext,
  losers: Racer[],
  settle: (ref: FalRequestRef, outcome: RequestOutcome) => void,
  recordLatency: (ref: FalRequestRef, sample: { ok: boolean }) => Promise<void>,
  finishedAtFal: (ref: FalRequestRef) => Promise<void>,
): Promise<void> {
  await Promise.all(
    losers.map(async ({ ref, stop }) => {
      stop.abort();
      settle(ref, 'canceled');
      await cancelAtFal(ctx, ref);
      await finishedAtFal(ref);
      // A cancelled first request ran at least this long: a lower bound keeps the tail honest.
      await recordLatency(ref, { ok: true });
      await forgetFalRequest(ctx, ref);
    }),
  );
}
