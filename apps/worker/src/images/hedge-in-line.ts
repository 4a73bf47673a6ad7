import type { FalRequestRef, HedgeDecision, HedgeTrigger } from '@fluxq/core';
import type { AttemptContext } from './attempt-context.js';
import { newSlotId } from './fal-submit.js';

/** A due hedge, once the breaker, the budget and the scheduler have answered. */
export interface HedgeReady {
  hedgeReady: true;
  trigger: HedgeTrigger;
  /** The request the hedge would race. */
  of: FalRequestRef;
  /** When it came due. Unit: ms timestamp. */
  dueMs: number;
  /** The fal slot held for the hedge when `decision` is `sent`. */
  slot: string;
  /** `withdrawn`: the wait ended (the race is over) or could not be held before a slot came. */
  decision: Exclude<HedgeDecision, 'no_slot'>;
}

/**
 * Readies a due hedge: no hedge while the breaker is not closed (fal is struggling) or with the
 * budget empty; otherwise its slot is asked for in line, under its job's class and tenant, the
 * way the job's retries are (a hedge of an interactive job goes before any default first
 * attempt; packages/queue README, "Scheduling fal capacity"). The wait runs beside the race:
 * `signal` (the race ending, or the hedged request ending first) takes the ticket out of line.
 * The budget is only peeked here; the caller spends a token when it sends the hedge.
 */
export async function readyHedge(
  ctx: AttemptContext,
  due: { series: string; trigger: HedgeTrigger; of: FalRequestRef; chunk: number },
  signal: AbortSignal,
): Promise<HedgeReady> {
  const { resilience } = ctx.deps;
  const base = {
    hedgeReady: true as const,
    trigger: due.trigger,
    of: due.of,
    dueMs: ctx.deps.now(),
    slot: newSlotId(ctx.record.id, due.chunk),
  };
  try {
    const breaker = await resilience.breaker.state(ctx.record.model);
    if (breaker.state !== 'closed') return { ...base, decision: 'breaker_not_closed' };
    if ((await resilience.hedgeBudget.tokens(due.series)) < 1) return { ...base, decision: 'budget_spent' };
    await resilience.slots.acquire(base.slot, signal);
    return { ...base, decision: 'sent' };
  } catch (err) {
    // A hedge is an extra: trouble asking for it (Redis away, the race over) never fails the attempt.
    if (!signal.aborted) ctx.deps.logger.warn({ err, jobId: ctx.record.id }, 'could not ready a hedge');
    return { ...base, decision: 'withdrawn' };
  }
}
