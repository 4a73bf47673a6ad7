import { setTimeout as delay } from 'node:timers/promises';
import type { FalRequestRef, HedgeDecision, HedgeTrigger, RequestOutcome } from '@fluxq/core';
import type { FalImageOutput } from '@fluxq/fal';
import { ATTEMPT_TIMEOUT, classifyProviderFailure, failureKindOf, latencySeries } from '@fluxq/resilience';
import { metricsOf } from '../metrics/metrics-of.js';
import type { AttemptContext } from './attempt-context.js';
import { logHedge, logRequest, markRunning, settleRequest } from './attempt-log.js';
import { type ChunkSpec, cancelAtFal, forgetFalRequest, slotOf, submitFalRequest } from './fal-submit.js';
import { awaitFalRequest, type FalCompletion } from './fal-wait.js';
import { type HedgeReady, readyHedge } from './hedge-in-line.js';

type Settled =
  | { ref: FalRequestRef; ok: true; completion: FalCompletion }
  | { ref: FalRequestRef; ok: false; error: unknown };

interface Racer {
  ref: FalRequestRef;
  stop: AbortController;
  settled: Promise<Settled>;
}

const HEDGE_DUE = Symbol('hedge due');
const QUEUE_CHECK_DUE = Symbol('queue check due');

/** A queued hedge's race to a runner ended: `loser` is still queued at fal (cancelled unbilled when it is the first request). */
interface RunnerRaceEnd {
  runnerRace: true;
  winner?: FalRequestRef;
  loser?: FalRequestRef;
}

/** A chunk's output and the request that produced it (the first, a hedge or a resubmit). */
export interface ChunkResult {
  output: FalImageOutput;
  ref: FalRequestRef;
  /** The losers' cancels at fal (they are already settled on the record); await before the job's last write. */
  cleanup: Promise<void>;
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
 * successful output. An interactive job's request is hedged with a second one (within the
 * hedge budget, only while the breaker is closed) when it is still queued at fal past the
 * tracked queue-time quantile (the two race to a runner: when the hedge wins, the first,
 * still queued, is cancelled at once, unbilled; when the first wins, both go on) or when it
 * passes the tracked time-to-result quantile. A due hedge waits for its fal slot in line, under
 * its job's class, while the race goes on (withdrawn if the request it would race ends first); the
 * first success wins and the other is cancelled at fal. A queued hedge that won its race
 * may get one slow hedge of its own. A request fal lost (404) is submitted again once.
 * Other failures end the chunk once no request is left running.
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

  /**
   * Only first requests describe fal's latency; a hedge's time is biased by the race. A
   * cancelled request counts as at least `atLeastMs` (or as long as it had been out).
   */
  const recordLatency = async (
    ref: FalRequestRef,
    sample: { ok: boolean; queueMs?: number; runMs?: number; atLeastMs?: number },
  ) => {
    if (ref.hedge) return;
    const { atLeastMs = 0, ...rest } = sample;
    await resilience.latency
      .record(series, { totalMs: Math.max(atLeastMs, deps.now() - ref.submitted_at), ...rest })
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
  const timers = new AbortController();
  const timer = <T>(atMs: number, value: T): Promise<T> => {
    const due = delay(Math.max(0, atMs - deps.now()), value, { signal: timers.signal });
    due.catch(() => {});
    return due;
  };
  const fresh = racers.size === 1 && !primary.hedge;
  let hedgeDue = fresh && ctx.hedge ? timer(ctx.hedge.slowAtMs(primary), HEDGE_DUE) : undefined;
  let queueCheckDue =
    fresh && ctx.hedge?.queuedAfterMs !== undefined
      ? timer(primary.submitted_at + ctx.hedge.queuedAfterMs, QUEUE_CHECK_DUE)
      : undefined;
  let runnerRace: Promise<RunnerRaceEnd> | undefined;
  let resubmitted = false;
  let firstError: unknown;

  /** The due hedge waiting for its slot, if any (one at a time: a second one would not pay). */
  let inLine:
    | { ready: Promise<HedgeReady>; trigger: HedgeTrigger; of: FalRequestRef; dueMs: number }
    | undefined;
  const logDecision = (
    due: { trigger: HedgeTrigger; of: FalRequestRef; dueMs: number },
    decision: HedgeDecision,
  ) => {
    logHedge(record, {
      chunk: spec.chunk,
      decision,
      trigger: due.trigger,
      of: due.of.request_id,
      nowMs: due.dueMs,
    });
    metrics.hedgeDue(record, decision);
    if (decision === 'budget_spent')
      deps.logger.info({ jobId: record.id }, 'hedge budget spent; not hedging');
  };
  const queueHedge = (trigger: HedgeTrigger, of: FalRequestRef) => {
    const ready = readyHedge(ctx, { series, trigger, of, chunk: spec.chunk }, timers.signal);
    inLine = { ready, trigger, of, dueMs: deps.now() };
  };

  /** A readied hedge: sent if the request it races is still the only one out and a token is left. */
  const hedge = async (ready: HedgeReady): Promise<FalRequestRef | undefined> => {
    if (ready.decision !== 'sent') {
      logDecision(ready, ready.decision);
      return undefined;
    }
    // The slot may be the one the raced request gave back on finishing (fal-wait frees it on
    // COMPLETED, before the result is read): then there is nothing left to hedge.
    const stillAlone =
      racers.size === 1 &&
      racers.has(ready.of.request_id) &&
      (await falStatusOf(ctx, ready.of)) !== 'COMPLETED';
    const spent = stillAlone && !(await resilience.hedgeBudget.tryConsume(series));
    if (!stillAlone || spent) {
      await resilience.slots.release(ready.slot).catch(() => {});
      logDecision(ready, spent ? 'budget_spent' : 'withdrawn');
      return undefined;
    }
    logDecision(ready, 'sent');
    deps.logger.info(
      {
        jobId: record.id,
        chunk: spec.chunk,
        trigger: ready.trigger,
        afterMs: ready.dueMs - ready.of.submitted_at,
      },
      'hedging a fal request',
    );
    const ref = await submitFalRequest(ctx, { ...spec, hedge: true }, ready.slot);
    start(ref);
    return ref;
  };

  /** A request still queued at fal when the other got a runner: cancelled now, so it is never billed. */
  const dropQueued = async (loser: FalRequestRef) => {
    const racer = racers.get(loser.request_id);
    if (!racer) return;
    racers.delete(loser.request_id);
    racer.stop.abort();
    settle(loser, 'canceled');
    await cancelAtFal(ctx, loser);
    await finishedAtFal(loser);
    // A first request still queued past the queue hedge point counts as slower than the slow
    // hedge point: left out, the tracked tail would lose just the requests the queue check
    // caught, and the slow hedge point would drift down (more hedges, each less useful).
    await recordLatency(loser, {
      ok: true,
      queueMs: deps.now() - loser.submitted_at,
      atLeastMs: ctx.hedge ? ctx.hedge.slowAtMs(loser) - loser.submitted_at : 0,
    });
    await forgetFalRequest(ctx, loser);
  };

  try {
    while (racers.size > 0) {
      const next = await Promise.race<
        Settled | typeof HEDGE_DUE | typeof QUEUE_CHECK_DUE | RunnerRaceEnd | HedgeReady
      >([
        ...[...racers.values()].map((racer) => racer.settled),
        ...(hedgeDue ? [hedgeDue] : []),
        ...(inLine ? [inLine.ready] : []),
        ...(queueCheckDue ? [queueCheckDue] : []),
        ...(runnerRace ? [runnerRace] : []),
      ]);
      if (next === QUEUE_CHECK_DUE) {
        queueCheckDue = undefined;
        // Only a request fal still has queued: a hedge then costs a submit but no run.
        if (racers.size !== 1 || !racers.has(primary.request_id)) continue;
        if ((await falStatusOf(ctx, primary)) !== 'IN_QUEUE') continue;
        queueHedge('queued', primary);
        continue;
      }
      if (next === HEDGE_DUE) {
        hedgeDue = undefined;
        // One request left (the first, or the queued hedge that beat it to a runner): hedge it.
        const [only] = [...racers.values()];
        if (racers.size === 1 && only && !inLine) queueHedge('slow', only.ref);
        continue;
      }
      if ('hedgeReady' in next) {
        inLine = undefined;
        const second = await hedge(next);
        if (second && next.trigger === 'queued')
          runnerRace = raceToRunner(ctx, next.of, second, timers.signal);
        continue;
      }
      if ('runnerRace' in next) {
        runnerRace = undefined;
        // The hedge got a runner first: the first request, still queued, is cancelled unbilled.
        // The first got one first: the hedge is kept (it runs once a runner frees up), since the
        // first's queue wait past the tracked quantile predicts a slow run, and a slow hedge sent
        // later would have less time left to help (bench/tail/monte-carlo.mjs: fewer late jobs
        // and fewer submits than cancelling it). A winner that has meanwhile failed leaves the
        // queued one as the chunk's only hope.
        const firstLost = next.loser?.request_id === primary.request_id;
        if (next.loser && firstLost && next.winner && racers.has(next.winner.request_id)) {
          await dropQueued(next.loser);
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
        // Settled on the record now; the cancels at fal run while the caller stores the output.
        const cleanup = cancelLosers(ctx, [...racers.values()], settle, recordLatency, finishedAtFal).catch(
          (err: unknown) => deps.logger.warn({ err, jobId: record.id }, 'could not clear a lost hedge race'),
        );
        racers.clear();
        return { output: next.completion.output, ref: next.ref, cleanup };
      }

      const rule = classifyProviderFailure(next.error);
      if (rule?.kind === ATTEMPT_TIMEOUT) {
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
    timers.abort();
    // Still in line when the race ended: the ticket leaves the order (the abort above).
    if (inLine) logDecision(inLine, 'withdrawn');
    for (const racer of racers.values()) {
      // Left running for the next attempt (another chunk failed or the job stopped).
      racer.stop.abort();
      resilience.slots.forget(slotOf(racer.ref));
    }
  }
}

/** fal's status of a request, or undefined when fal could not be asked (then nothing is decided on it). */
async function falStatusOf(ctx: AttemptContext, ref: FalRequestRef): Promise<string | undefined> {
  try {
    const status = (await ctx.deps.fal.status(ref.endpoint, ref.request_id, { signal: ctx.signal })).status;
    if (status !== 'IN_QUEUE') markRunning(ctx.record, ref.request_id, ctx.deps.now());
    return status;
  } catch {
    return undefined;
  }
}

/**
 * Two requests of a chunk, at least one still queued at fal: polls both until one has a
 * runner and names the other if it is still queued (the caller may cancel it then: fal bills
 * a request cancelled in its queue nothing).
 * Both running, or fal not answering: no loser, the race goes on to the first result.
 * Polls faster than the status poll, since a queue phase is short and the point is to
 * cancel before the loser starts running.
 */
async function raceToRunner(
  ctx: AttemptContext,
  first: FalRequestRef,
  second: FalRequestRef,
  signal: AbortSignal,
): Promise<RunnerRaceEnd> {
  // A tenth of the status poll: the loser is cancelled before fal gives it a runner more often.
  const everyMs = Math.max(10, Math.round(ctx.deps.settings.pollIntervalMs / 10));
  try {
    for (;;) {
      const [a, b] = await Promise.all([falStatusOf(ctx, first), falStatusOf(ctx, second)]);
      if (a === undefined || b === undefined || signal.aborted) return { runnerRace: true };
      const aQueued = a === 'IN_QUEUE';
      const bQueued = b === 'IN_QUEUE';
      if (!aQueued && bQueued) return { runnerRace: true, winner: first, loser: second };
      if (aQueued && !bQueued) return { runnerRace: true, winner: second, loser: first };
      if (!aQueued && !bQueued) return { runnerRace: true };
      await delay(everyMs, undefined, { signal });
    }
  } catch {
    return { runnerRace: true };
  }
}

/**
 * The race is won: stop waiting on the others and cancel them at fal (a queued one is not
 * billed). Each loser is settled on the record synchronously, before the first await.
 */
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
