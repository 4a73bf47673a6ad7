import { cpus, loadavg } from 'node:os';
import { MODELS } from '@fluxq/core';
import { describeMachine } from '../machine.js';
import { FLUXQ_MODES } from './modes.js';
import { pricePerRequest, type RunResult } from './stats.js';

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** One line on what FLUXQ sent to fal for a run. */
export const describeFluxq = (r: RunResult) =>
  `${r.submits} fal submits (${r.ran} ran, ${r.billed} billed) over ${r.attempts ?? 0} attempts; hedges ${r.hedges?.queued ?? 0}` +
  ` queued + ${r.hedges?.slow ?? 0} slow sent, ${r.hedgesSkipped ?? 0} skipped, ${r.hedgesWon ?? 0} won;` +
  ` ${r.retriedJobs ?? 0} jobs retried`;

export interface TailReportInput {
  results: readonly RunResult[];
  /** The table from `tailTable`. */
  table: string;
  timeScale: number;
  /** Jobs per model and mode, at each rate. */
  jobs: number[];
  /** Arrivals per second of bench time, one run each. */
  rates: number[];
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
    `Command: \`npm run bench:tail\` · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}` +
      ` · load average at the end ${loadavg()
        .map((n) => fmt(n, 1))
        .join(' / ')} (1 / 5 / 15 min${
        Math.max(...loadavg()) > cpus().length ? '; above the core count, other work shared the machine' : ''
      })`,
    '',
    `Time scale ${scale}: the fal simulator's latencies (a lognormal fitted to each model's seed p50/p95,` +
      ` capped at 4 × p95; 5–20 % of each request queued, the rest running) and every fluxq timing setting` +
      ` (the retry and hedge budgets' windows included) run ${speedup}× faster; all times below are` +
      ` divided by ${scale}, back to real seconds. Provider success rates are the catalog's (${rates}).` +
      ` Text-to-image jobs (512×512, one image), Poisson arrivals at ${input.rates
        .map((rate, i) => `${fmt(rate * scale, 1)}/s (${input.jobs[i]} jobs per model and mode)`)
        .join(', ')} in rescaled real-world seconds (×${speedup} in wall-clock time), the same schedule` +
      ' for both modes of a model and rate; each run on a fresh stack.',
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
        .filter(([mode]) => results.some((r) => r.mode === mode))
        .map(([mode, variant]) => `\`${mode}\` = ${variant.label}`)
        .join('; ') +
      '.',
    ...results
      .filter((r) => r.mode !== 'naive')
      .map(
        (r) =>
          `- ${fmt(r.rate * scale, 1)}/s ${r.mode} ${r.model}: ${describeFluxq(r)} (of ${r.jobs} jobs); ${r.lateJobs ?? ''}.`,
      ),
    '- hedges q+s (skipped): hedges sent because the request was still queued at fal past the tracked' +
      ' queue-time quantile (`queued`, raced to a runner: a first request still queued when its hedge got one is cancelled unbilled, a first that got one first runs on beside its hedge) + because it' +
      ' passed the tracked time-to-result quantile (`slow`), and in brackets hedges that came due but were not' +
      " sent (budget or breaker); retries = attempts beyond the first; all from the jobs' `attempt_log`." +
      ' Late = past the p99 target, by what their attempt log shows. Bold = misses its target.',
    "- Delivered = jobs that reached `succeeded`; percentiles are over delivered jobs (NAIVE's failed and" +
      " cancelled jobs drop out of its percentiles; FLUXQ's retried jobs stay in). submits/ok = fal" +
      ' submits (first attempts, retries, hedges) per delivered job; ran/ok = requests that reached a runner per' +
      ' delivered job; billed/ok = the requests fal charges for per delivered job: those that ran, less those' +
      " that then failed with a server error (fal's billing FAQ: 5xx are never charged; a 422 or a cancelled" +
      ` running request may be, so they count); $/ok = price per request (${prices}) × billed / delivered.`,
    `- Fixed costs do not shrink with the time scale (the sim rendering each image, HTTP, Redis, FLUXQ's` +
      ` download and store), so they weigh ${speedup}× in the rescaled figures: 30 ms of overhead reads` +
      ` as ${fmt(0.03 / scale, 2)} s.`,
  ].join('\n');
}
