import { availableParallelism, loadavg } from 'node:os';
import { startS3Server, waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { BATCH_LINES, measureBatchAccept, measureRawAddBulk } from './batch-throughput.js';
import { beforeAfterBench } from './before-after.js';
import { dashboardBench } from './dashboard-section.js';
import { measureFluxqEndToEnd, measureRawProcessing } from './end-to-end.js';
import { footprintBench } from './footprint-section.js';
import { startBenchStack } from './harness.js';
import { latencyBench } from './latency-section.js';
import { describeMachine } from './machine.js';
import { metricsOverheadBench } from './metrics-overhead.js';
import { measureRedisShard } from './redis-shard.js';
import { type Row, recordSection, table } from './report.js';
import { schedulerBench } from './scheduler.js';
import { measureLocalStorage, measureS3Storage } from './storage-driver.js';
import { measureApiSubmit, measureExpressCeiling, measureRawAdd } from './submit-throughput.js';

/**
 * `npm run bench`: fluxq next to raw BullMQ, measured in the same run on the same
 * private redis-server. Prints the table and records it in BENCHMARKS.md.
 */
const CONNECTIONS = 32;
const SUBMIT_DURATION_S = Number(process.env.BENCH_SUBMIT_DURATION_S ?? 8);
const END_TO_END_JOBS = Number(process.env.BENCH_E2E_JOBS ?? 300);
const WORKER_CONCURRENCY = 50;

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number, b: number) => `${fmt(a / b, 2)}×`;

/**
 * A 50,000-line batch: first byte to 202 through the API, next to raw BullMQ `addBulk`
 * of the same payloads in the same run. Recorded as the `batch` section.
 */
async function batchBench(): Promise<void> {
  const stack = await startBenchStack();
  try {
    console.log(`batch: ${BATCH_LINES.toLocaleString('en-US')} lines …`);
    const raw = await measureRawAddBulk(stack.redis.url);
    const api = await measureBatchAccept(stack);
    const rows: Row[] = [
      {
        measure: `batch of ${fmt(BATCH_LINES)} lines, first byte → 202, s (fluxq: multipart JSONL to POST /v1/batches; baseline: addBulk × 1,000)`,
        fluxq: fmt(api.acceptMs / 1000, 2),
        baseline: fmt(raw.acceptMs / 1000, 2),
        ratio: ratio(api.acceptMs, raw.acceptMs),
      },
      {
        measure: 'batch jobs accepted per second',
        fluxq: fmt(api.jobsPerSecond),
        baseline: fmt(raw.jobsPerSecond),
        ratio: ratio(api.jobsPerSecond, raw.jobsPerSecond),
      },
    ];
    const body = [
      '## Batch accept',
      '',
      `Command: \`npm run bench\` (or \`BENCH_ONLY=batch npm run bench\`) · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
      '',
      table(rows),
      '',
      `The fluxq column streams a ${fmt(api.bytes / 1024 / 1024, 1)} MB JSONL file to a separate API process, which`,
      'validates every line with the job normalizer before storing anything, then writes 50,000 job records and',
      'the batch, and enqueues with addBulk in chunks of 1,000; no worker runs meanwhile.',
    ].join('\n');
    console.log(`\n${table(rows)}\n`);
    await recordSection('batch', body);
  } finally {
    await stack.close();
  }
}

const SHARD_JOBS = Number(process.env.BENCH_SHARD_JOBS ?? 600);
const SHARD_WORKERS = Number(process.env.BENCH_SHARD_WORKERS ?? 3);

/**
 * Where one Redis shard saturates: the whole system at zero simulated latency with several
 * workers, and Redis's own CPU time (`INFO cpu`) per job. Recorded as the `redis-shard` section.
 */
async function redisShardBench(): Promise<void> {
  const stack = await startBenchStack();
  try {
    for (let i = 0; i < SHARD_WORKERS; i++) await stack.startWorker(WORKER_CONCURRENCY);
    console.log(
      `redis shard: ${SHARD_JOBS} jobs, ${SHARD_WORKERS} workers × concurrency ${WORKER_CONCURRENCY} …`,
    );
    // A first pass warms the processes (JIT, sharp) so the measured one reflects steady state.
    await measureRedisShard(stack, Math.min(100, SHARD_JOBS), 16);
    const load = await measureRedisShard(stack, SHARD_JOBS, 32);
    const rows: Row[] = [
      {
        measure: 'end to end, jobs/s (whole system on this machine)',
        fluxq: fmt(load.jobsPerSecond, 1),
        baseline: '—',
        ratio: '—',
      },
      {
        measure: 'Redis CPU during the run, % of one core (INFO cpu)',
        fluxq: fmt(load.redisCpuShare * 100, 1),
        baseline: '—',
        ratio: '—',
      },
      { measure: 'Redis CPU per job, ms', fluxq: fmt(load.redisCpuMsPerJob, 3), baseline: '—', ratio: '—' },
      {
        measure: 'jobs/s at which one Redis shard saturates (1 core ÷ CPU per job)',
        fluxq: fmt(load.shardCeilingJobsPerSecond),
        baseline: '—',
        ratio: '—',
      },
    ];
    const body = [
      '## One Redis shard: where the single `{fluxq}` slot saturates',
      '',
      `Command: \`npm run bench\` (or \`BENCH_ONLY=redis-shard npm run bench\`) · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
      '',
      table(rows),
      '',
      `${fmt(SHARD_JOBS)} jobs through the API, ${SHARD_WORKERS} worker processes and fal-sim at zero latency (rendered images). Every fluxq key is in`,
      'one hash slot, so one Redis thread carries all of it however many masters a cluster has. Redis',
      'reports its own CPU time; dividing one core by the CPU time per job gives the rate at which that',
      'thread is saturated. On a machine where the API, workers and simulator share the cores with Redis',
      'the system tops out first (first row); the last row is the ceiling a bigger fleet of workers meets.',
      'How to go past it: docs/scaling.md.',
    ].join('\n');
    console.log(`\n${table(rows)}\n`);
    await recordSection('redis-shard', body);
  } finally {
    await stack.close();
  }
}

const STORAGE_OUTPUTS = Number(process.env.BENCH_STORAGE_OUTPUTS ?? 200);
const STORAGE_E2E_JOBS = Number(process.env.BENCH_STORAGE_E2E_JOBS ?? 200);

/**
 * What the storage driver costs per job: local disk next to S3 (s3rver behind the harness's
 * SigV4 front, on this machine), same run, same images. Recorded as the `storage` section.
 */
async function storageBench(): Promise<void> {
  const loadAtStart = loadavg()[0] ?? 0;
  const s3 = await startS3Server();
  try {
    console.log(`storage driver: ${STORAGE_OUTPUTS} outputs per driver …`);
    const local = await measureLocalStorage(STORAGE_OUTPUTS);
    const remote = await measureS3Storage(s3, STORAGE_OUTPUTS);
    console.log(`storage driver: end to end, ${STORAGE_E2E_JOBS} jobs per driver …`);
    const e2e: Record<'local' | 's3', number> = { local: 0, s3: 0 };
    for (const driver of ['local', 's3'] as const) {
      const stack = await startBenchStack({ env: driver === 's3' ? s3.env() : {} });
      try {
        await stack.startWorker(WORKER_CONCURRENCY);
        // A first pass warms the processes (JIT, sharp, connections) so the measured one is steady state.
        await measureFluxqEndToEnd(stack, Math.min(50, STORAGE_E2E_JOBS), 16);
        e2e[driver] = await measureFluxqEndToEnd(stack, STORAGE_E2E_JOBS, 16);
      } finally {
        await stack.close();
      }
    }
    const ms = (n: number) => fmt(n, 2);
    const rows: Row[] = [
      {
        measure: 'put one output, ms (median)',
        fluxq: ms(remote.putMs),
        baseline: ms(local.putMs),
        ratio: ratio(remote.putMs, local.putMs),
      },
      {
        measure: 'make its client URL, ms (s3: presigned GET; local: HMAC /v1/files URL)',
        fluxq: ms(remote.urlMs),
        baseline: ms(local.urlMs),
        ratio: ratio(remote.urlMs, local.urlMs),
      },
      {
        measure: 'read it back, ms (s3: download of the presigned URL over HTTP; local: read from disk)',
        fluxq: ms(remote.readMs),
        baseline: ms(local.readMs),
        ratio: ratio(remote.readMs, local.readMs),
      },
      {
        measure: `end to end, jobs/s (${STORAGE_E2E_JOBS} jobs, 1 worker × ${WORKER_CONCURRENCY}, fal-sim at zero latency, rendered images)`,
        fluxq: fmt(e2e.s3, 1),
        baseline: fmt(e2e.local, 1),
        ratio: ratio(e2e.s3, e2e.local),
      },
      {
        measure: 'end to end, ms of wall time per job',
        fluxq: ms(1000 / e2e.s3),
        baseline: ms(1000 / e2e.local),
        ratio: ratio(1000 / e2e.s3, 1000 / e2e.local),
      },
    ];
    const body = [
      '## Storage driver cost per job: S3 vs local disk',
      '',
      `Command: \`npm run bench\` (or \`BENCH_ONLY=storage npm run bench\`) · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
      '',
      'Here the fluxq column is `STORAGE_DRIVER=s3`, the baseline column `STORAGE_DRIVER=local`.',
      '',
      table(rows),
      '',
      `Per output: a ${fmt(local.bytes / 1024, 0)} KiB 512×512 PNG, ${STORAGE_OUTPUTS} times one after another (10 more first, not`,
      "counted). The S3 server is s3rver in its own process on this machine behind the test harness's",
      'front, which checks every SigV4 signature and decodes the body (packages/testing/src/s3-front.ts):',
      "a loopback store with no network latency, and a Node one, so these are the SDK's and the protocol's",
      "costs, not a real store's (add your region's round trip, tens of ms per put, for AWS). End to end",
      'runs the whole system (API → worker → fal-sim → stored output, inputs none) once per driver.',
      `Load average when the section started: ${fmt(loadAtStart, 1)} (the machine may be shared; compare the columns, not runs).`,
    ].join('\n');
    console.log(`\n${table(rows)}\n`);
    await recordSection('storage', body);
  } finally {
    await s3.stop();
  }
}

const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? availableParallelism());

/** The submit benchmark against an API of API_PROCESSES processes (a stack of its own). */
async function measureClusteredSubmit() {
  const stack = await startBenchStack({
    apiEnv: { API_PROCESSES: String(API_PROCESSES), LOG_LEVEL: 'info' },
  });
  try {
    // Ready once the first process answers; the measurement waits for all of them.
    const listening = () => stack.api.logs().filter((line) => line.includes('api listening')).length;
    await waitFor(() => listening() >= API_PROCESSES, { timeoutMs: 60_000, message: 'every API process' });
    const result = await measureApiSubmit(stack, CONNECTIONS, SUBMIT_DURATION_S);
    if (result.errors > 0)
      throw new Error(`${result.errors} submits failed with API_PROCESSES=${API_PROCESSES}`);
    return result;
  } finally {
    await stack.close();
  }
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === undefined || process.env.BENCH_ONLY === 'storage') await storageBench();
  if (process.env.BENCH_ONLY === 'storage') return;
  const only = process.env.BENCH_ONLY;
  if (only === undefined || only === 'batch') await batchBench();
  if (only === 'batch') return;
  if (only === undefined || only === 'redis-shard') await redisShardBench();
  if (only === 'redis-shard') return;
  if (only === undefined || only === 'dashboard') await dashboardBench();
  if (only === 'dashboard') return;
  if (only === undefined || only === 'metrics') await metricsOverheadBench();
  if (only === 'metrics') return;
  if (only === undefined || only === 'scheduler') await schedulerBench();
  if (only === 'scheduler') return;
  if (only === undefined || only === 'footprint') await footprintBench();
  if (only === 'footprint') return;
  if (only === undefined || only === 'latency') await latencyBench();
  if (only === 'latency') return;
  if (only === undefined || only === 'before-after') await beforeAfterBench();
  if (only === 'before-after') return;
  const stack = await startBenchStack({ simImages: 'prerendered' });
  try {
    console.log(`submit throughput: ${CONNECTIONS} connections × ${SUBMIT_DURATION_S} s …`);
    const rawAdd = await measureRawAdd(stack.redis.url, CONNECTIONS, SUBMIT_DURATION_S);
    const apiSubmit = await measureApiSubmit(stack, CONNECTIONS, SUBMIT_DURATION_S);
    if (apiSubmit.errors > 0) throw new Error(`${apiSubmit.errors} submits failed`);
    const clustered = await measureClusteredSubmit();
    const ceiling = await measureExpressCeiling(CONNECTIONS, SUBMIT_DURATION_S);
    // Start the end-to-end run from an empty store and queue.
    const admin = new Redis(stack.redis.url);
    await admin.flushall();
    await admin.quit();

    console.log(`end to end: ${END_TO_END_JOBS} jobs, worker concurrency ${WORKER_CONCURRENCY} …`);
    const rawProcess = await measureRawProcessing(stack.redis.url, END_TO_END_JOBS, WORKER_CONCURRENCY);
    await stack.startWorker(WORKER_CONCURRENCY);
    const fluxqProcess = await measureFluxqEndToEnd(stack, END_TO_END_JOBS, 16);

    const rows: Row[] = [
      {
        measure: `submit, jobs/s (${CONNECTIONS} concurrent clients; fluxq: POST /v1/jobs over HTTP, baseline: queue.add)`,
        fluxq: fmt(apiSubmit.perSecond),
        baseline: fmt(rawAdd.perSecond),
        ratio: ratio(apiSubmit.perSecond, rawAdd.perSecond),
      },
      {
        measure: `submit, jobs/s with API_PROCESSES=${API_PROCESSES} (the same clients; baseline: queue.add as above)`,
        fluxq: fmt(clustered.perSecond),
        baseline: fmt(rawAdd.perSecond),
        ratio: ratio(clustered.perSecond, rawAdd.perSecond),
      },
      {
        measure:
          'submit, jobs/s of a bare express app (express.json() and a 202, no work: the ceiling of any express API here; baseline: queue.add as above)',
        fluxq: fmt(ceiling.perSecond),
        baseline: fmt(rawAdd.perSecond),
        ratio: ratio(ceiling.perSecond, rawAdd.perSecond),
      },
      {
        measure: 'submit latency p50 / p99, ms',
        fluxq: `${fmt(apiSubmit.p50Ms, 1)} / ${fmt(apiSubmit.p99Ms, 1)}`,
        baseline: `${fmt(rawAdd.p50Ms, 1)} / ${fmt(rawAdd.p99Ms, 1)}`,
        ratio: ratio(apiSubmit.p99Ms, rawAdd.p99Ms),
      },
      {
        measure: `end to end, jobs/s (${END_TO_END_JOBS} jobs; fluxq: HTTP → worker → fal-sim at zero latency → 512×512 PNG stored; baseline: no-op BullMQ jobs)`,
        fluxq: fmt(fluxqProcess, 1),
        baseline: fmt(rawProcess, 1),
        ratio: ratio(fluxqProcess, rawProcess),
      },
    ];
    const body = [
      '## Submit and end-to-end throughput',
      '',
      `Command: \`npm run bench\` · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
      '',
      table(rows),
      '',
      'Both columns ran in the same process against the same private redis-server. The fluxq submit path',
      'is a separate API process (validation, normalization, job record, BullMQ add); the end-to-end path',
      "includes fal-sim in **prerendered** image mode (one 512×512 PNG reused, so the figure is fluxq's cost, not",
      'the simulator drawing images), the download into local storage and the job-store updates — so the ratio is',
      'the cost of everything fluxq does per job, not queue overhead alone. The bare-express row is the same load',
      "against an express app with express.json() and a 202 and nothing behind it: the framework's own ceiling on",
      'this machine (the load generator and Redis share its 2 cores), which no express API doing work can pass.',
    ].join('\n');
    console.log(`\n${table(rows)}\n`);
    await recordSection('throughput', body);
    console.log('recorded in BENCHMARKS.md');
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
