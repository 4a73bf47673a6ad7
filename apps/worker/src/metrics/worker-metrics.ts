import type { HedgeDecision, JobErrorCode, JobRecord, RequestOutcome } from '@fluxq/core';

/** The part of a job record a metric is labelled with (never its id). */
export type JobLabels = Pick<JobRecord, 'model' | 'operation' | 'tenant'>;

/** How a webhook delivery attempt ended. */
export type WebhookAttemptOutcome = 'delivered' | 'retrying' | 'failed' | 'gone' | 'blocked' | 'disabled';

/** A breaker state change seen by the worker that caused it (the Lua script made it). */
export interface BreakerTransition {
  model: string;
  from: 'closed' | 'half-open' | 'open';
  to: 'closed' | 'half-open' | 'open';
}

/**
 * What the worker tells its metrics. Injected through the deps (not a global registry) so
 * tests can run several workers in one process; `noopWorkerMetrics` when metrics are off.
 * Every call is synchronous and in memory: an update costs no Redis round trip.
 */
export interface WorkerMetrics {
  /**
   * The job reached a terminal status in this worker; `totalMs` is accepted → stored (or → failed).
   * Jobs canceled before a worker took them are the API's, not counted here.
   */
  jobFinished(
    job: JobLabels,
    end: { status: 'succeeded' | 'failed' | 'canceled'; errorCode?: JobErrorCode; totalMs: number },
  ): void;
  /** A fal request ended for the job; `durationMs` is submit → end. */
  falRequestSettled(
    job: JobLabels,
    end: { outcome: RequestOutcome; hedge: boolean; durationMs: number },
  ): void;
  falSubmitted(job: JobLabels, kind: 'first' | 'retry' | 'hedge'): void;
  hedgeDue(job: JobLabels, decision: HedgeDecision): void;
  retryScheduled(job: JobLabels, retry: { errorCode: JobErrorCode; reason: string }): void;
  falCanceled(model: string | undefined, ok: boolean): void;
  /** fal answered 429; the queue is slowed. */
  falRateLimited(job: JobLabels): void;
  breakerTransition(transition: BreakerTransition): void;
  webhookAttempt(outcome: WebhookAttemptOutcome): void;
}

export const noopWorkerMetrics: WorkerMetrics = {
  jobFinished() {},
  falRequestSettled() {},
  falSubmitted() {},
  hedgeDue() {},
  retryScheduled() {},
  falCanceled() {},
  falRateLimited() {},
  breakerTransition() {},
  webhookAttempt() {},
};
