import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFalSim, type FalSim } from '@fluxq/fal-sim';
import { createScheduler, type Ticket } from '@fluxq/queue';
import { createJobStore } from '@fluxq/store';
import { getFreePort, repoRoot, type Service, spawnService, startRedisServer } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { describeMachine } from './machine.js';
import { type Row, recordSection, table } from './report.js';

/**
 * Issue 14's figures: Redis commands per delivered job (INFO commandstats) with the scheduler
 * and, in the same run, with the code before it (`BENCH_BASELINE_ROOT`: a checkout of the commit
 * before the scheduler, with its node_modules), and the scheduler's grant rate.
 */
const JOBS = Number(process.env.BENCH_SCHED_JOBS ?? 400);
const LIMIT = 4;
const FAL_MS = 50;
const WORKERS = 2;
const WORKER_CONCURRENCY = 50;
const WAITING = 1_000;

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

interface CommandCost {
  perJob: number;
  jobsPerSecond: number;
  top: Array<[string, number]>;
}

/** Every command Redis ran since the last CONFIG RESETSTAT, by name. */
async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

/** A private redis-server, the in-process simulator at `falMs` per request, an API of `root` and workers. */
interface SchedStack {
  apiUrl: string;
  sim: FalSim;
  admin: Redis;
  close(): Promise<void>;
}

async function startSchedStack(
  root: string,
  options: { falMs: number; tenants: string[]; workers: number; workerEnv?: Record<string, string> },
): Promise<SchedStack> {
  const redis = await startRedisServer();
  const sim = await createFalSim({ timeScale: 0, failureRate: 0 });
  sim.setFaults([{ on: 'outcome', delayMs: options.falMs, times: -1 }]);
  const storageDir = await mkdtemp(join(tmpdir(), 'fluxq-bench-sched-'));
  const port = await getFreePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const common = { REDIS_URL: redis.url, STORAGE_DIR: storageDir, LOG_LEVEL: 'warn' };
  const services: Service[] = [];
  const admin = new Redis(redis.url);
  const close = async () => {
    await admin.quit().catch(() => {});
    await Promise.allSettled(services.map((s) => s.stop()));
    await sim.close();
    await redis.stop();
    await rm(storageDir, { recursive: true, force: true });
  };
  try {
    services.push(
      await spawnService({
        name: 'api',
        entry: 'apps/api/src/main.ts',
        root,
        env: {
          ...common,
          PORT: String(port),
          FILES_SIGNING_SECRET: 'bench-signing-secret-bench-signing-secret',
          API_KEYS: options.tenants.map((t) => `fq_bench_${t}:${t}`).join(','),
        },
        ready: { url: `${apiUrl}/healthz` },
      }),
    );
    for (let i = 0; i < options.workers; i++) {
      services.push(
        await spawnService({
          name: `worker-${i + 1}`,
          entry: 'apps/worker/src/main.ts',
          root,
          env: {
            ...common,
            FAL_BASE_URL: sim.url,
            FAL_KEY: 'bench',
            FAL_POLL_INTERVAL_MS: '20',
            FAL_MAX_CONCURRENCY: String(LIMIT),
            HEDGE_PRIORITIES: 'none',
            ...options.workerEnv,
          },
          ready: { ipcEvent: 'ready' },
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { apiUrl, sim, admin, close };
}

/**
 * `JOBS` jobs of two tenants as one batch each through the API of `root`, two workers, fal
 * taking `FAL_MS` per request with `FAL_MAX_CONCURRENCY` 4, so most jobs wait for a slot: the
 * Redis commands of everything (API, workers, their timers) per job delivered.
 */
async function measureCommands(root: string): Promise<CommandCost> {
  const { apiUrl, sim, admin, close } = await startSchedStack(root, {
    falMs: FAL_MS,
    tenants: ['a', 'b'],
    workers: WORKERS,
    workerEnv: { WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), STATS_ENABLED: 'false' },
  });
  try {
    await admin.config('RESETSTAT');
    const startMs = performance.now();
    await Promise.all(
      ['a', 'b'].map(async (tenant) => {
        const requests = Array.from({ length: JOBS / 2 }, (_, i) => ({
          custom_id: `${tenant}${i}`,
          prompt: `${tenant} ${i}`,
          size: '512x512',
        }));
        const response = await fetch(`${apiUrl}/v1/batches`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer fq_bench_${tenant}` },
          body: JSON.stringify({ requests, priority: 'bulk' }),
        });
        if (response.status !== 202) throw new Error(`batch answered ${response.status}`);
      }),
    );
    // Completion read from the in-process simulator and the batch counters' keys only, then the
    // commands of this loop itself are taken off (it counts its own).
    let own = 0;
    for (;;) {
      if (sim.stats().completed >= JOBS) {
        const keys = await admin.keys('{fluxq}:batch:*');
        own += 1;
        let done = 0;
        for (const key of keys.filter((k) => /^\{fluxq\}:batch:batch_[0-9a-z]+$/.test(k))) {
          own += 1;
          if ((await admin.hget(key, 'status')) === 'completed') done += 1;
        }
        if (done === 2) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const elapsedS = (performance.now() - startMs) / 1000;
    const stats = await commandStats(admin);
    const total = [...stats.values()].reduce((a, b) => a + b, 0) - own;
    const top = [...stats.entries()].sort((x, y) => y[1] - x[1]).slice(0, 6);
    return { perJob: total / JOBS, jobsPerSecond: JOBS / elapsedS, top };
  } finally {
    await close();
  }
}

/**
 * The scheduler alone: `WAITING` new-job tickets of 4 tenants waiting, 0-latency fal (a slot is
 * freed the moment it is granted), release-and-grant calls on one connection until all went.
 */
async function measureGrantRate(): Promise<{ grantsPerSecond: number; msPerCall: number }> {
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  try {
    const tickets: Ticket[] = Array.from({ length: WAITING }, (_, i) => {
      const tenant = `t${i % 4}`;
      const jobId = `job_bench_${i}`;
      return {
        lease: jobId,
        jobId,
        tenant,
        priority: 'bulk',
        kind: 'job',
        dispatch: true,
      };
    });
    await createScheduler(redis, { limit: 0 }).admit(tickets);
    const scheduler = createScheduler(redis, { limit: LIMIT });
    const startMs = performance.now();
    let held = (await scheduler.grant()).granted;
    let granted = held.length;
    let calls = 1;
    while (granted < WAITING) {
      const next = await scheduler.release(
        held,
        held.map((jobId) => ({ tenant: `t${Number(jobId.split('_')[2]) % 4}`, jobId })),
      );
      calls += 1;
      held = next.granted;
      granted += held.length;
    }
    const ms = performance.now() - startMs;
    return { grantsPerSecond: (granted / ms) * 1000, msPerCall: ms / calls };
  } finally {
    await redis.quit();
    await server.stop();
  }
}

interface FairnessRun {
  /** a+b completions from c's submit until c's last (d's last) job succeeded. */
  cBound: number;
  dBound: number;
  utilisation: number;
  peak: number;
}

/**
 * The acceptance scenario as a figure: tenants a and b each have 1,500 bulk jobs waiting, then c
 * submits 10 default and d 10 bulk jobs; how many of a's and b's complete before c's (d's) last
 * succeeds, with fal at 1 s per request, FAL_MAX_CONCURRENCY 4 and 3 workers.
 */
async function measureFairness(root: string): Promise<FairnessRun> {
  const { apiUrl, sim, admin, close } = await startSchedStack(root, {
    falMs: 1_000,
    tenants: ['a', 'b', 'c', 'd'],
    workers: 3,
  });
  // The job store reads records of the baseline's encoding too (a field per property).
  const jobs = createJobStore(admin);
  const auth = (t: string) => ({ 'content-type': 'application/json', authorization: `Bearer fq_bench_${t}` });
  try {
    const batchIds: string[] = [];
    for (const tenant of ['a', 'b']) {
      const requests = Array.from({ length: 1_500 }, (_, i) => ({
        custom_id: `${tenant}${i}`,
        prompt: `${tenant} ${i}`,
        size: '512x512',
      }));
      const response = await fetch(`${apiUrl}/v1/batches`, {
        method: 'POST',
        headers: auth(tenant),
        body: JSON.stringify({ requests, priority: 'bulk' }),
      });
      batchIds.push(((await response.json()) as { id: string }).id);
    }
    while (sim.stats().completed < 2 * LIMIT) await new Promise((r) => setTimeout(r, 50));
    const startMs = Date.now();
    const falBefore = sim.stats().inProgressMs;
    const submit = (tenant: string, priority: string, i: number) =>
      fetch(`${apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: auth(tenant),
        body: JSON.stringify({ prompt: `${tenant} ${i}`, size: '512x512', priority }),
      }).then(async (r) => ((await r.json()) as { id: string }).id);
    const cIds = await Promise.all(Array.from({ length: 10 }, (_, i) => submit('c', 'default', i)));
    const dIds = await Promise.all(Array.from({ length: 10 }, (_, i) => submit('d', 'bulk', i)));
    const doneAt = async (ids: string[]) => {
      for (;;) {
        const records = await jobs.getMany(ids);
        if (records.every((record) => record?.status === 'succeeded')) {
          return Math.max(...records.map((record) => record!.created_ms + record!.timings.total_ms!));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const cLast = await doneAt(cIds);
    const dLast = await doneAt(dIds);
    const endMs = Date.now();
    const utilisation = (sim.stats().inProgressMs - falBefore) / (endMs - startMs) / LIMIT;
    const finished: number[] = [];
    for (const batchId of batchIds) {
      const ids = (await admin.lrange(`{fluxq}:batch:${batchId}:lines`, 0, -1)).map((l) => l.split(' ')[0]!);
      for (const record of await jobs.getMany(ids)) {
        if (record?.status === 'succeeded') finished.push(record.created_ms + record.timings.total_ms!);
      }
    }
    const between = (untilMs: number) => finished.filter((t) => t > startMs && t <= untilMs).length;
    return { cBound: between(cLast), dBound: between(dLast), utilisation, peak: sim.stats().peakInProgress };
  } finally {
    await close();
  }
}

export async function schedulerBench(): Promise<void> {
  const baselineRoot = process.env.BENCH_BASELINE_ROOT;
  console.log(`scheduler: ${JOBS} jobs, FAL_MAX_CONCURRENCY ${LIMIT}, fal ${FAL_MS} ms …`);
  const after = await measureCommands(repoRoot);
  const before = baselineRoot ? await measureCommands(baselineRoot) : undefined;
  const rate = await measureGrantRate();
  console.log('scheduler: the fairness run (2 × 1,500 bulk, then c 10 default, d 10 bulk) …');
  const fairAfter = await measureFairness(repoRoot);
  const fairBefore = baselineRoot ? await measureFairness(baselineRoot) : undefined;
  const pct = (n: number) => `${fmt(n * 100, 1)} %`;
  const rows: Row[] = [
    {
      measure:
        "fairness run: a's and b's jobs completed from c's submit until c's 10 default jobs all succeeded (issue 14 bound: < 12)",
      fluxq: fmt(fairAfter.cBound),
      baseline: fairBefore ? fmt(fairBefore.cBound) : 'not run',
      ratio: '–',
    },
    {
      measure: "… until d's 10 bulk jobs all succeeded (bound: < 30)",
      fluxq: fmt(fairAfter.dBound),
      baseline: fairBefore ? fmt(fairBefore.dBound) : 'not run',
      ratio: '–',
    },
    {
      measure: 'fal utilisation over that time (mean in-progress / FAL_MAX_CONCURRENCY 4; peak in-progress)',
      fluxq: `${pct(fairAfter.utilisation)} (peak ${fairAfter.peak})`,
      baseline: fairBefore ? `${pct(fairBefore.utilisation)} (peak ${fairBefore.peak})` : 'not run',
      ratio: '–',
    },
    {
      measure: `Redis commands per delivered job (${JOBS} jobs of 2 tenants, ${WORKERS} workers × ${WORKER_CONCURRENCY}, FAL_MAX_CONCURRENCY ${LIMIT}, fal ${FAL_MS} ms; baseline: the code before the scheduler)`,
      fluxq: fmt(after.perJob, 1),
      baseline: before ? fmt(before.perJob, 1) : 'not run',
      ratio: before ? `${fmt(after.perJob / before.perJob, 2)}×` : '–',
    },
    {
      measure: 'jobs delivered per second in that run (bound by 4 slots × 50 ms)',
      fluxq: fmt(after.jobsPerSecond, 1),
      baseline: before ? fmt(before.jobsPerSecond, 1) : 'not run',
      ratio: before ? `${fmt(after.jobsPerSecond / before.jobsPerSecond, 2)}×` : '–',
    },
    {
      measure: `grant rate, slots granted per second (${fmt(WAITING)} waiting jobs of 4 tenants, 0-latency fal: release-and-grant calls back to back on one connection)`,
      fluxq: fmt(rate.grantsPerSecond),
      baseline: '–',
      ratio: '–',
    },
  ];
  const topOf = (cost: CommandCost) => cost.top.map(([name, n]) => `${name} ${fmt(n / JOBS, 1)}`).join(', ');
  const body = [
    '## Scheduling fal capacity: Redis cost per job and grant rate',
    '',
    `Command: \`npm run bench\` (or \`BENCH_ONLY=scheduler npm run bench\`; set \`BENCH_BASELINE_ROOT\` to a checkout of the code before the scheduler, with its node_modules, for the baseline column) · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
    '',
    table(rows),
    '',
    'Commands are every call in `INFO commandstats` from just before the two batches are submitted until',
    'both are completed (API, workers and their timers; the completion check subtracts its own), divided by the',
    `jobs. Per job, the most frequent: scheduler ${topOf(after)}${before ? `; before ${topOf(before)}` : ''}.`,
    `The grant rate is the script alone, ${fmt(rate.msPerCall, 2)} ms per release-and-grant call of ${LIMIT} slots.`,
    'The fairness run is the acceptance scenario of test/e2e/scheduling.test.ts (3 workers, fal 1 s per request),',
    "counted from the job records' completion times.",
  ].join('\n');
  console.log(`\n${table(rows)}\n`);
  await recordSection('scheduler', body);
}
