import { MODEL_IDS } from '@fluxq/core';
import type { CircuitBreaker } from '@fluxq/resilience';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { closedLabel, LABEL_SETS } from './labels.js';
import type { JobLabels, WorkerMetrics } from './worker-metrics.js';

/** Seconds; end-to-end covers a queue wait and retries, up to the 15 min job deadline. */
const JOB_BUCKETS_S = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900];
/** Seconds; FLUX.2 on fal: p50 2–8 s, p95 13–36 s, and a long tail. */
const FAL_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300];

export interface PrometheusWorkerMetricsOptions {
  /** Adds a `tenant` label to the job series (METRICS_TENANT_LABELS); tenants are configured, so bounded. */
  tenantLabels: boolean;
  /** Read on each scrape (a few Redis reads), never kept up to date in between. */
  sources: {
    /** Leases live at fal across all workers, and the account's limit (FAL_MAX_CONCURRENCY). */
    slotsInUse: () => Promise<number>;
    slotsLimit: number;
    /** Leases this process holds. */
    slotsHeld: () => number;
    breaker: Pick<CircuitBreaker, 'state'>;
  };
}

/**
 * The worker's metrics in a registry of its own (one per worker, so several in one
 * process do not collide), with Node's default process metrics.
 */
export function createPrometheusWorkerMetrics(options: PrometheusWorkerMetricsOptions): {
  metrics: WorkerMetrics;
  registry: Registry;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const tenant = options.tenantLabels ? (['tenant'] as const) : ([] as const);
  const jobLabels = (job: JobLabels) => ({
    model: closedLabel(job.model, LABEL_SETS.model),
    operation: closedLabel(job.operation, LABEL_SETS.operation),
    ...(options.tenantLabels ? { tenant: job.tenant } : {}),
  });

  const jobDuration = new Histogram({
    name: 'fluxq_job_duration_seconds',
    help: 'End-to-end time of a job: accepted by the API to its outputs stored (or to its failure).',
    labelNames: ['model', 'operation', 'outcome', ...tenant],
    buckets: JOB_BUCKETS_S,
    registers,
  });
  const jobsFinished = new Counter({
    name: 'fluxq_jobs_finished_total',
    help: 'Jobs that reached a terminal status in this worker, by status and error code (none on success).',
    labelNames: ['model', 'operation', 'status', 'error_code', ...tenant],
    registers,
  });
  const falDuration = new Histogram({
    name: 'fluxq_fal_request_duration_seconds',
    help: 'Time of one fal request, submit to its end, by how it ended (a hedge loser is canceled).',
    labelNames: ['model', 'operation', 'outcome', 'hedge'],
    buckets: FAL_BUCKETS_S,
    registers,
  });
  const falSubmits = new Counter({
    name: 'fluxq_fal_submits_total',
    help: 'Requests submitted to fal: first attempt, a retry attempt, or a hedge.',
    labelNames: ['model', 'operation', 'kind'],
    registers,
  });
  const hedges = new Counter({
    name: 'fluxq_fal_hedges_total',
    help: 'Hedges that came due, by decision (sent, budget_spent, breaker_not_closed).',
    labelNames: ['model', 'operation', 'decision'],
    registers,
  });
  const retries = new Counter({
    name: 'fluxq_job_retries_total',
    help: 'Failed attempts put back for another attempt, by error code and why the wait was chosen.',
    labelNames: ['model', 'operation', 'error_code', 'reason'],
    registers,
  });
  const cancels = new Counter({
    name: 'fluxq_fal_cancels_total',
    help: 'Cancels sent to fal (hedge losers, timeouts, canceled jobs), by whether fal took them.',
    labelNames: ['model', 'outcome'],
    registers,
  });
  const rateLimited = new Counter({
    name: 'fluxq_fal_rate_limited_total',
    help: 'Attempts that fal answered with 429 (the queue is slowed, no attempt spent).',
    labelNames: ['model', 'operation'],
    registers,
  });
  const breakerTransitions = new Counter({
    name: 'fluxq_breaker_transitions_total',
    help: 'Circuit-breaker state changes this worker made (each is made by exactly one worker).',
    labelNames: ['model', 'from', 'to'],
    registers,
  });
  const webhookAttempts = new Counter({
    name: 'fluxq_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by outcome (retrying: failed, another attempt is scheduled).',
    labelNames: ['outcome'],
    registers,
  });

  const { sources } = options;
  new Gauge({
    name: 'fluxq_fal_slots_in_use',
    help: 'fal account-concurrency slots held by all workers (global, read from Redis at scrape).',
    registers,
    async collect() {
      this.set(await sources.slotsInUse());
    },
  });
  new Gauge({
    name: 'fluxq_fal_slots_limit',
    help: 'FAL_MAX_CONCURRENCY: the slots all workers share.',
    registers,
    collect() {
      this.set(sources.slotsLimit);
    },
  });
  new Gauge({
    name: 'fluxq_fal_slots_held',
    help: 'fal slots this worker process holds.',
    registers,
    collect() {
      this.set(sources.slotsHeld());
    },
  });
  new Gauge({
    name: 'fluxq_breaker_state',
    help: 'Circuit-breaker state per model (1 for the current state, 0 for the others; global, from Redis).',
    labelNames: ['model', 'state'],
    registers,
    async collect() {
      const states = await Promise.all(MODEL_IDS.map((model) => sources.breaker.state(model)));
      MODEL_IDS.forEach((model, i) => {
        for (const state of LABEL_SETS.breakerState)
          this.set({ model, state }, states[i]!.state === state ? 1 : 0);
      });
    },
  });

  const metrics: WorkerMetrics = {
    jobFinished(job, end) {
      const labels = jobLabels(job);
      jobDuration.observe(
        { ...labels, outcome: closedLabel(end.status, LABEL_SETS.jobOutcome) },
        Math.max(0, end.totalMs) / 1000,
      );
      jobsFinished.inc({
        ...labels,
        status: closedLabel(end.status, LABEL_SETS.jobOutcome),
        error_code: closedLabel(end.errorCode ?? 'none', LABEL_SETS.errorCode),
      });
    },
    falRequestSettled(job, end) {
      const { model, operation } = jobLabels(job);
      falDuration.observe(
        {
          model,
          operation,
          outcome: closedLabel(end.outcome, LABEL_SETS.requestOutcome),
          hedge: String(end.hedge),
        },
        Math.max(0, end.durationMs) / 1000,
      );
    },
    falSubmitted(job, kind) {
      const { model, operation } = jobLabels(job);
      falSubmits.inc({ model, operation, kind: closedLabel(kind, LABEL_SETS.submitKind) });
    },
    hedgeDue(job, decision) {
      const { model, operation } = jobLabels(job);
      hedges.inc({ model, operation, decision: closedLabel(decision, LABEL_SETS.hedgeDecision) });
    },
    retryScheduled(job, retry) {
      const { model, operation } = jobLabels(job);
      retries.inc({
        model,
        operation,
        error_code: closedLabel(retry.errorCode, LABEL_SETS.errorCode),
        reason: closedLabel(retry.reason, LABEL_SETS.retryReason),
      });
    },
    falCanceled(model, ok) {
      cancels.inc({ model: closedLabel(model, LABEL_SETS.model), outcome: ok ? 'ok' : 'error' });
    },
    falRateLimited(job) {
      const { model, operation } = jobLabels(job);
      rateLimited.inc({ model, operation });
    },
    breakerTransition(t) {
      breakerTransitions.inc({
        model: closedLabel(t.model, LABEL_SETS.model),
        from: closedLabel(t.from, LABEL_SETS.breakerState),
        to: closedLabel(t.to, LABEL_SETS.breakerState),
      });
    },
    webhookAttempt(outcome) {
      webhookAttempts.inc({ outcome: closedLabel(outcome, LABEL_SETS.webhookOutcome) });
    },
  };
  return { metrics, registry };
}
