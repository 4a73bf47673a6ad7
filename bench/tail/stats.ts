import { MODELS, type ModelId, priceRequest } from '@fluxq/core';

/** What one run (one model, one mode) produced, in bench time (ms at the sim's time scale). */
export interface RunResult {
  model: ModelId;
  /** Arrivals per second of bench (wall-clock) time. */
  rate: number;
  /** `naive`, or the name of a FLUXQ variant (see modes.ts). */
  mode: string;
  jobs: number;
  succeeded: number;
  /** End-to-end latency of each succeeded job, bench ms. */
  latenciesMs: number[];
  /** fal submits (the sim's `submits`): first attempts, retries and hedges. */
  submits: number;
  /** Requests that reached a runner (the sim's `ran`). */
  ran: number;
  /** Requests fal charges for (the sim's `billed`): those that ran, less those that ended in a 5xx. */
  billed: number;
  /** Jobs that had not reached a terminal state when the run gave up on them. */
  unfinished: number;
  /** FLUXQ only: attempts over all jobs (each sends one fal request; hedges are the submits beyond). */
  attempts?: number;
  /** FLUXQ only: jobs that took more than one attempt. */
  retriedJobs?: number;
  /** FLUXQ only: hedge requests that delivered the job's image. */
  hedgesWon?: number;
  /** FLUXQ only: jobs past the p99 target and why, from their attempt logs. */
  lateJobs?: string;
  /** FLUXQ only: hedges sent, by what made them due (from the attempt logs). */
  hedges?: { queued: number; slow: number };
  /** FLUXQ only: hedges that came due and were not sent (budget spent or breaker not closed). */
  hedgesSkipped?: number;
  /** FLUXQ only: attempts beyond each job's first. */
  retries?: number;
}

/** The job shape every bench job uses: text to image, one 512×512 output. */
export const JOB_SIZE = { width: 512, height: 512 } as const;

/** Price of one fal request of the bench's job shape, USD. */
export const pricePerRequest = (model: ModelId) =>
  priceRequest({ model, references: [], output: JOB_SIZE, n: 1 }).usd;

/** Nearest-rank percentile of ascending `sorted` (q in 0..1); NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  deliveredPct: number;
  /** Real seconds (bench ms divided by the time scale). */
  p50S: number;
  p95S: number;
  p99S: number;
  submitsPerOk: number;
  ranPerOk: number;
  billedPerOk: number;
  usdPerOk: number;
}

export function summarize(result: RunResult, timeScale: number): Summary {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const realS = (benchMs: number) => benchMs / timeScale / 1000;
  const ok = result.succeeded;
  return {
    deliveredPct: result.jobs === 0 ? Number.NaN : (100 * ok) / result.jobs,
    p50S: realS(percentile(sorted, 0.5)),
    p95S: realS(percentile(sorted, 0.95)),
    p99S: realS(percentile(sorted, 0.99)),
    submitsPerOk: result.submits / ok,
    ranPerOk: result.ran / ok,
    billedPerOk: result.billed / ok,
    usdPerOk: (pricePerRequest(result.model) * result.billed) / ok,
  };
}

/** The targets for a model, in real seconds. */
export function targetsOf(model: ModelId) {
  const providerP95S = MODELS[model].latencyPrior.p95Ms / 1000;
  return {
    deliveredPct: 99.9,
    providerP95S,
    p99S: 1.25 * providerP95S,
    submitsPerOk: 1.15,
    billedPerOk: 1.12,
  };
}

const num = (n: number, digits: number) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

const HEADER =
  '| rate /s | model | mode | jobs | delivered | p50 s | p95 s | p99 s | p99 / p95 | hedges q+s (skipped) | retries | submits/ok | ran/ok | billed/ok | $/ok |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';

/** A figure in bold when it misses its target. */
const judged = (text: string, ok: boolean) => (ok ? text : `**${text}**`);

function row(result: RunResult, timeScale: number): string {
  const s = summarize(result, timeScale);
  const t = targetsOf(result.model);
  const fluxq = result.mode !== 'naive';
  const check = (text: string, ok: boolean) => (fluxq ? judged(text, ok) : text);
  const jobs = result.unfinished > 0 ? `${result.jobs} (${result.unfinished} unfinished)` : `${result.jobs}`;
  const hedges = result.hedges
    ? `${result.hedges.queued}+${result.hedges.slow} (${result.hedgesSkipped ?? 0})`
    : '';
  return [
    '',
    num(result.rate * timeScale, 1),
    result.model,
    result.mode,
    jobs,
    check(`${num(s.deliveredPct, 2)} %`, s.deliveredPct >= t.deliveredPct),
    num(s.p50S, 2),
    num(s.p95S, 2),
    check(num(s.p99S, 2), s.p99S <= t.p99S),
    num(s.p99S / t.providerP95S, 2),
    hedges,
    result.retries === undefined ? '' : String(result.retries),
    check(num(s.submitsPerOk, 3), s.submitsPerOk <= t.submitsPerOk),
    num(s.ranPerOk, 3),
    check(num(s.billedPerOk, 3), s.billedPerOk <= t.billedPerOk),
    num(s.usdPerOk, 5),
    '',
  ]
    .join(' | ')
    .trim();
}

function targetRow(model: ModelId): string {
  const t = targetsOf(model);
  return `| | ${model} | *target* | | ≥ ${t.deliveredPct} % | | | ≤ ${num(t.p99S, 1)} | ≤ 1.25 (seed p95 ${num(t.providerP95S, 1)}) | | | ≤ ${t.submitsPerOk} | | ≤ ${t.billedPerOk} | |`;
}

/** Markdown table: per model, each rate's runs; then the model's targets line. */
export function tailTable(results: readonly RunResult[], timeScale: number): string {
  const models = [...new Set(results.map((r) => r.model))];
  const lines = models.flatMap((model) => [
    ...results
      .filter((r) => r.model === model)
      .sort((a, b) => a.rate - b.rate)
      .map((r) => row(r, timeScale)),
    targetRow(model),
  ]);
  return [HEADER, ...lines].join('\n');
}
