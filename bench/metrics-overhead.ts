import { getFreePort } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { createPrometheusWorkerMetrics } from '../apps/worker/src/metrics/prometheus-worker-metrics.js';
import { measureFluxqEndToEnd } from './end-to-end.js';
import { startBenchStack } from './harness.js';
import { describeMachine } from './machine.js';
import { processCpuMs } from './process-cpu.js';
import { type Row, recordSection, table } from './report.js';
import { measureApiSubmit } from './submit-throughput.js';

/**
 * One configuration under test: environment added to the API and to the worker. The metrics
 * endpoints get their ports here (`METRICS_PORT: 'free'` is replaced by a free port).
 */
export interface OverheadArm {
  name: string;
  apiEnv: Record<string, string>;
  workerEnv: Record<string, string>;
}

/**
 * The arms, the first being the baseline (neither recorded): then the provider table's
 * recording alone (`STATS_ENABLED`, a worker setting), then both, so the table shows each
 * one's share.
 */
export const OVERHEAD_ARMS: readonly OverheadArm[] = [
  {
    name: 'metrics off, stats off',
    apiEnv: { METRICS_ENABLED: 'false' },
    workerEnv: { STATS_ENABLED: 'false' },
  },
  { name: 'stats on, metrics off', apiEnv: { METRICS_ENABLED: 'false' }, workerEnv: {} },
  {
    name: 'stats on, metrics on (scraped every second)',
    apiEnv: {},
    workerEnv: { METRICS_PORT: 'free' },
  },
];

const CONNECTIONS = 32;
const SUBMIT_DURATION_S = Number(process.env.BENCH_METRICS_SUBMIT_S ?? 5);
const JOBS = Number(process.env.BENCH_METRICS_JOBS ?? 200);
/** Arms run interleaved, this many times each, so drift on a shared machine hits all of them. */
const ROUNDS = Number(process.env.BENCH_METRICS_ROUNDS ?? 2);
const WORKER_CONCURRENCY = 50;
const SCRAPE_EVERY_MS = 1_000;

interface ArmFigures {
  submitPerSecond: number[];
  endToEndPerSecond: number[];
  /** The API's CPU ms per accepted job while submitting. */
  submitCpuMsPerJob: number[];
  /** API + worker CPU ms per job end to end. */
  endToEndCpuMsPerJob: number[];
  scrapes: number;
}

/** Scrapes `urls` every second until stopped, as a (very eager) Prometheus would. */
function scrapeLoop(urls: string[]): { stop(): Promise<number> } {
  let scrapes = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        urls.map(async (url) => {
          const response = await fetch(url);
          if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
          await response.text();
          scrapes++;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, SCRAPE_EVERY_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return scrapes;
    },
  };
}

async function runArm(arm: OverheadArm, figures: ArmFigures): Promise<void> {
  const stack = await startBenchStack({ apiEnv: arm.apiEnv });
  try {
    const workerEnv = { ...arm.workerEnv };
    if (workerEnv.METRICS_PORT === 'free') workerEnv.METRICS_PORT = String(await getFreePort());
    const urls = [
      ...(arm.apiEnv.METRICS_ENABLED === 'false' ? [] : [`${stack.apiUrl}/metrics`]),
      ...(workerEnv.METRICS_PORT ? [`http://127.0.0.1:${workerEnv.METRICS_PORT}/metrics`] : []),
    ];
    // The API alone first (its metrics are scraped meanwhile): submit throughput.
    const apiScraper = scrapeLoop(urls.filter((url) => url.startsWith(stack.apiUrl)));
    const apiCpuBefore = processCpuMs(stack.api.pid);
    const submit = await measureApiSubmit(stack, CONNECTIONS, SUBMIT_DURATION_S);
    figures.submitCpuMsPerJob.push((processCpuMs(stack.api.pid) - apiCpuBefore) / submit.total);
    figures.scrapes += await apiScraper.stop();
    if (submit.errors > 0) throw new Error(`${arm.name}: ${submit.errors} submits failed`);
    figures.submitPerSecond.push(submit.perSecond);
    const admin = new Redis(stack.redis.url);
    await admin.flushall();
    await admin.quit();
    const worker = await stack.startWorker(WORKER_CONCURRENCY, workerEnv);
    const scraper = scrapeLoop(urls);
    const cpuNow = () => processCpuMs(stack.api.pid) + processCpuMs(worker.pid);
    const cpuBefore = cpuNow();
    figures.endToEndPerSecond.push(await measureFluxqEndToEnd(stack, JOBS, 16));
    figures.endToEndCpuMsPerJob.push((cpuNow() - cpuBefore) / JOBS);
    figures.scrapes += await scraper.stop();
  } finally {
    await stack.close();
  }
}

/**
 * The worker's own instrumentation of one job, in process: what it records for a job with one
 * fal request (submit, the request's end, the job's end, a webhook attempt), in µs of CPU.
 * No Redis, no I/O: the part of the cost that lands on every job's path.
 */
function instrumentationUsPerJob(): number {
  const { metrics } = createPrometheusWorkerMetrics({
    tenantLabels: false,
    sources: {
      slotsInUse: async () => 0,
      slotsLimit: 10,
      slotsHeld: () => 0,
      breaker: { state: async () => ({ state: 'closed', failures: 0, successes: 0, streak: 0 }) },
    },
  });
  const job = { model: 'flux.2-dev-turbo', operation: 'generate', tenant: 'local' } as const;
  const once = (i: number) => {
    metrics.falSubmitted(job, 'first');
    metrics.falRequestSettled(job, { outcome: 'succeeded', hedge: false, durationMs: 2_000 + (i % 500) });
    metrics.jobFinished(job, { status: 'succeeded', totalMs: 2_500 + (i % 700) });
    metrics.webhookAttempt('delivered');
  };
  for (let i = 0; i < 20_000; i++) once(i); // warm-up (JIT)
  const count = 200_000;
  const started = process.cpuUsage();
  for (let i = 0; i < count; i++) once(i);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / count;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * What metrics (and, once it exists, stats recording) add per job: submit and end-to-end
 * throughput with them on and off, in the same run, interleaved. Recorded as `metrics-overhead`.
 */
export async function metricsOverheadBench(arms: readonly OverheadArm[] = OVERHEAD_ARMS): Promise<void> {
  const figures = new Map(
    arms.map((arm) => [
      arm.name,
      {
        submitPerSecond: [],
        endToEndPerSecond: [],
        submitCpuMsPerJob: [],
        endToEndCpuMsPerJob: [],
        scrapes: 0,
      } as ArmFigures,
    ]),
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const arm of arms) {
      console.log(`metrics overhead, round ${round}/${ROUNDS}: ${arm.name} …`);
      await runArm(arm, figures.get(arm.name)!);
    }
  }
  const instrumentationUs = instrumentationUsPerJob();
  const base = figures.get(arms[0]!.name)!;
  const rows: Row[] = arms.flatMap((arm) => {
    const f = figures.get(arm.name)!;
    const vs = (values: number[], baseline: number[]) =>
      arm === arms[0] ? '—' : `${fmt((median(values) / median(baseline) - 1) * 100, 1)} %`;
    return [
      {
        measure: `${arm.name}: submit, jobs/s (${CONNECTIONS} clients, POST /v1/jobs)`,
        fluxq: fmt(median(f.submitPerSecond)),
        baseline: fmt(median(base.submitPerSecond)),
        ratio: vs(f.submitPerSecond, base.submitPerSecond),
      },
      {
        measure: `${arm.name}: end to end, jobs/s (${JOBS} jobs, one worker × ${WORKER_CONCURRENCY})`,
        fluxq: fmt(median(f.endToEndPerSecond), 1),
        baseline: fmt(median(base.endToEndPerSecond), 1),
        ratio: vs(f.endToEndPerSecond, base.endToEndPerSecond),
      },
      {
        measure: `${arm.name}: API CPU per submitted job, ms`,
        fluxq: fmt(median(f.submitCpuMsPerJob), 3),
        baseline: fmt(median(base.submitCpuMsPerJob), 3),
        ratio: vs(f.submitCpuMsPerJob, base.submitCpuMsPerJob),
      },
      {
        measure: `${arm.name}: API + worker CPU per job end to end, ms`,
        fluxq: fmt(median(f.endToEndCpuMsPerJob), 2),
        baseline: fmt(median(base.endToEndCpuMsPerJob), 2),
        ratio: vs(f.endToEndCpuMsPerJob, base.endToEndCpuMsPerJob),
      },
    ];
  });
  rows.push({
    measure:
      'worker instrumentation per job, in process (submit, request end, job end, webhook attempt), µs of CPU',
    fluxq: fmt(instrumentationUs, 2),
    baseline: '',
    ratio: '',
  });
  const scrapes = arms.map((arm) => `${arm.name}: ${figures.get(arm.name)!.scrapes}`).join(', ');
  // Every round's figure, so the noise between rounds can be set against the differences.
  const rounds = arms.map((arm) => {
    const f = figures.get(arm.name)!;
    const list = (values: number[], digits: number) => values.map((v) => fmt(v, digits)).join(', ');
    return `- ${arm.name}: submit ${list(f.submitPerSecond, 0)} jobs/s, ${list(f.submitCpuMsPerJob, 3)} API CPU ms/job; end to end ${list(f.endToEndPerSecond, 1)} jobs/s, ${list(f.endToEndCpuMsPerJob, 2)} CPU ms/job`;
  });
  const body = [
    '## What metrics and stats add per job',
    '',
    `Command: \`BENCH_ONLY=metrics npm run bench\` · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
    '',
    table(rows),
    '',
    `Baseline column: the first arm (${arms[0]!.name}); ratio: the change against it. Each arm ran ${ROUNDS}`,
    'times, the arms interleaved, each on a fresh stack (private redis-server, API process, fal-sim at zero',
    'latency, one worker process); figures are medians. With metrics on, the API and the worker were',
    `scraped every ${SCRAPE_EVERY_MS / 1000} s during both measurements (Prometheus usually scrapes every 15–60 s), so the`,
    `collection on scrape (queue counts, slots, breaker state from Redis) is included (scrapes: ${scrapes}).`,
    "CPU per job is the processes' own CPU time (/proc) over the jobs they handled: on a machine shared with",
    'other work it is the steadier figure; throughput there moves by tens of per cent between rounds. Each',
    "round's figures:",
    '',
    ...rounds,
  ].join('\n');
  console.log(`\n${table(rows)}\n`);
  await recordSection('metrics-overhead', body);
}
