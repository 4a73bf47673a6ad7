import { isModelId, type ModelId } from '@fluxq/core';
import { recordSection } from '../report.js';
import { poissonArrivals } from './arrivals.js';
import { runFluxq } from './fluxq.js';
import { ALL_MODES, DEFAULT_MODES, FLUXQ_MODES } from './modes.js';
import { runNaive } from './naive.js';
import { describeFluxq, tailReport } from './report.js';
import { startTailStack } from './stack.js';
import { type RunResult, tailTable, targetsOf } from './stats.js';

/**
 * `npm run bench:tail`: NAIVE (one fal attempt, polling, fixed timeout) against FLUXQ (API +
 * workers: retries, hedging, tracked timeouts, breaker) on the fal simulator with the seed
 * latency priors and success rates, time-scaled; figures are rescaled to real seconds.
 */

function envNumber(name: string, fallback: number, min = Number.MIN_VALUE): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min) {
    const what = min === Number.MIN_VALUE ? 'a positive number' : `a number ≥ ${min}`;
    throw new Error(`${name} must be ${what}, got ${raw}`);
  }
  return value;
}

function envList(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  return raw
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;
}

const SCALE = envNumber('BENCH_TAIL_SCALE', 0.1);
/**
 * Arrivals per wall-clock second of the run, one run per rate; in rescaled real-world
 * seconds that is rate × SCALE (at 0.1: 0.5, 1 and 2 jobs per real second).
 * BENCH_TAIL_RATE runs that one rate only.
 */
const RATES = envList('BENCH_TAIL_RATE', envList('BENCH_TAIL_RATES', ['5', '10', '20'])).map((rate) => {
  const value = Number(rate);
  if (!(value > 0)) throw new Error(`BENCH_TAIL_RATES: ${rate} is not a positive number`);
  return value;
});
/** Trial runs: append the late jobs' attempt logs (one JSON line each) to this file. */
const LATE_LOG = envList('BENCH_TAIL_LATE_LOG', [])[0];
/** Jobs per model, mode and rate at most… */
const JOBS = Math.round(envNumber('BENCH_TAIL_JOBS', 600));
/** …and fewer at a low rate, so one arm's arrivals take at most this long (wall-clock seconds). */
const ARM_S = envNumber('BENCH_TAIL_ARM_S', 90);
const jobsAt = (rate: number) => Math.min(JOBS, Math.round(rate * ARM_S));
const WORKERS = Math.round(envNumber('BENCH_TAIL_WORKERS', 2));
const WORKER_CONCURRENCY = Math.round(envNumber('BENCH_TAIL_WORKER_CONCURRENCY', 200));
const MODELS_RUN = envList('BENCH_TAIL_MODELS', ['flux.2-dev-turbo', 'flux.2-dev-flash']);
const MODES = envList('BENCH_TAIL_MODES', DEFAULT_MODES);
/** FLUXQ jobs run (and not counted) before each model's measured run: JIT, connections, latency samples. */
const WARMUP_JOBS = Math.round(envNumber('BENCH_TAIL_WARMUP_JOBS', 80, 0));
/** BENCH_TAIL_RECORD=0 prints only (for trial runs that must not replace the recorded table). */
const RECORD = envList('BENCH_TAIL_RECORD', ['1'])[0] !== '0';

for (const model of MODELS_RUN)
  if (!isModelId(model)) throw new Error(`BENCH_TAIL_MODELS: unknown model ${model}`);
for (const mode of MODES) {
  if (!ALL_MODES.includes(mode))
    throw new Error(`BENCH_TAIL_MODES: unknown mode ${mode} (${ALL_MODES.join(', ')})`);
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const models = MODELS_RUN as ModelId[];
  console.log(
    `bench:tail — time scale ${SCALE}, rates ${RATES.join(', ')}/s wall-clock (up to ${JOBS} jobs, ` +
      `${ARM_S} s of arrivals per run), models ${models.join(', ')}, modes ${MODES.join(', ')}`,
  );
  const results: RunResult[] = [];
  const submitErrors: string[] = [];
  for (const rate of RATES) {
    for (const [index, model] of models.entries()) {
      const offsets = poissonArrivals(jobsAt(rate), rate, 1_000 + index);
      for (const mode of MODES) {
        const result = await runArm({ rate, model, mode, offsets, submitErrors });
        results.push(result);
      }
    }
  }
  for (const message of submitErrors) console.error(`first submit error — ${message}`);

  const table = tailTable(results, SCALE);
  const body = tailReport({
    results,
    table,
    timeScale: SCALE,
    jobs: RATES.map(jobsAt),
    rates: RATES,
    workers: WORKERS,
    workerConcurrency: WORKER_CONCURRENCY,
  });
  console.log(`\n${table}\n`);
  if (RECORD) {
    await recordSection('tail', body);
    console.log('recorded in BENCHMARKS.md');
  }
}

/** One model and mode at one rate, on a fresh stack (each FLUXQ variant starts from empty latency state). */
async function runArm(arm: {
  rate: number;
  model: ModelId;
  mode: string;
  offsets: number[];
  submitErrors: string[];
}): Promise<RunResult> {
  const { rate, model, mode, offsets } = arm;
  const variant = FLUXQ_MODES[mode];
  const stack = await startTailStack({
    timeScale: SCALE,
    workers: variant ? WORKERS : 0,
    workerConcurrency: WORKER_CONCURRENCY,
    workerEnv: variant?.workerEnv,
  });
  try {
    const label = `${fmt(rate * SCALE, 1)}/s ${model} ${mode}`;
    if (variant && WARMUP_JOBS > 0) {
      process.stdout.write(`${label} warm-up: ${WARMUP_JOBS} jobs … `);
      const warm = await runFluxq(stack, model, poissonArrivals(WARMUP_JOBS, rate, 1), {
        drainMs: 900_000 * SCALE + 15_000,
      });
      console.log(`${warm.succeeded} succeeded`);
    }
    const started = performance.now();
    process.stdout.write(`${label}: ${offsets.length} jobs … `);
    const result = variant
      ? await runFluxq(stack, model, offsets, {
          // The workers' job deadline (900 s real), then some slack.
          drainMs: 900_000 * SCALE + 15_000,
          onSubmitError: (message) => arm.submitErrors.push(`${model}: ${message}`),
          lateAfterMs: targetsOf(model).p99S * 1000 * SCALE,
          ...(LATE_LOG ? { lateLogPath: LATE_LOG } : {}),
        })
      : await runNaive(stack.sim, model, offsets, SCALE);
    result.mode = mode;
    result.rate = rate;
    const unfinished = result.unfinished > 0 ? `, ${result.unfinished} unfinished` : '';
    const extra = variant ? `, ${describeFluxq(result)}; ${result.lateJobs}` : '';
    console.log(
      `${result.succeeded} succeeded${unfinished}${extra} in ${fmt((performance.now() - started) / 1000, 1)} s`,
    );
    return result;
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
