import { MODELS } from '@fluxq/core';
import { describeMachine } from '../machine.js';
import { FLUXQ_MODES } from './modes.js';
import { pricePerRequest, type RunResult } from './stats.js';

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** One line on what FLUXQ sent to fal for a run. */
export const describeFluxq = (r: RunResult) =>
  `${r.submits} fal submits over ${r.attempts ?? 0} attempts (the rest are hedges; ${r.hedgesWon ?? 0}` +
  ` hedges won), ${r.retriedJobs ?? 0} jobs retried`;

export interface TailReportInput {
  results: readonly RunResult[];
  /** The table from `tailTable`. */
  table: string;
  timeScale: number;
  jobs: number;
  /** Arrivals per second of bench time. */
  rate: number;
  workers: number;
  workerConcurrency: number;
}

/** The BENCHMARKS.md section: command, machine, setup, the table and how to read it. */
export function tailReport(input: TailReportInput): string {
  const { results, timeScale: scale } = input;
  const models = [...new Set(results.map((r) => r.model))];
  const speedup = (1 / scale).toLocaleString('en-US', { maximumFractionDigits: 1 });
  const rates = models.map((m) => `${m} ${fmt(MODELS[m].providerSuccessRate * 100, 1)} %`).join(', ');
  const prices = models.map((m) => `${m} $${pricePerRequest(m)}`).join(', ');
  return [
    '## Tail latency, delivered success and cost: NAIVE vs FLUXQ',
    '',
    `Command: \`npm run bench:tail\` · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Time scale ${scale}: the fal simulator's latencies (a lognormal fitted to each model's seed p50/p95,` +
      ` capped at 4 × p95) and every fluxq timing setting run ${speedup}× faster (not the retry and hedge` +
      ` budgets' one-minute window, which the worker has no setting for); all times below are` +
      ` divided by ${scale}, back to real seconds. Provider success rates are the catalog's (${rates}).` +
      ` ${input.jobs} text-to-image jobs (512×512, one image) per model and mode, Poisson arrivals at` +
      ` ${fmt(input.rate)}/s of wall-clock time during the run (${fmt(input.rate * scale, 1)}/s in rescaled real-world seconds), the same` +
      ' schedule for both modes.',
    '',
    input.table,
    '',
    '- NAIVE: one submit to fal, status polled every 1 s, cancelled at 60 s, no retry; latency from submit' +
      ' to result.',
    `- FLUXQ: \`POST /v1/jobs\` with priority \`interactive\` → ${input.workers} worker processes` +
      ` (concurrency ${input.workerConcurrency} each) with retries, hedging, attempt` +
      ' timeouts from the tracked latency distribution, the circuit breaker and fal webhooks; latency is' +
      " the job's `timings.total_ms` (accepted → image stored). Variants: " +
      Object.entries(FLUXQ_MODES)
        .map(([mode, variant]) => `\`${mode}\` = ${variant.label}`)
        .join('; ') +
      '.',
    ...results
      .filter((r) => r.mode !== 'naive')
      .map((r) => `- ${r.mode} ${r.model}: ${describeFluxq(r)} (of ${r.jobs} jobs).`),
    "- Delivered = jobs that reached `succeeded`; percentiles are over delivered jobs (NAIVE's failed and" +
      " cancelled jobs drop out of its percentiles; FLUXQ's retried jobs stay in). submits/ok = fal" +
      ' submits (first attempts, retries, hedges) per delivered job; billed/ok = requests that reached a' +
      ` runner per delivered job; $/ok = price per request (${prices}) × billed / delivered.`,
    `- Fixed costs do not shrink with the time scale (the sim rendering each image, HTTP, Redis, FLUXQ's` +
      ` download and store), so they weigh ${speedup}× in the rescaled figures: 30 ms of overhead reads` +
      ` as ${fmt(0.03 / scale, 2)} s.`,
  ].join('\n');
}
