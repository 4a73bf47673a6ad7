import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { measureAddedLatency } from './added-latency.js';
import { BATCH_LINES, measureRawAddBulk } from './batch-throughput.js';
import { measureFluxqEndToEnd, measureRawProcessing } from './end-to-end.js';
import { startBenchStack } from './harness.js';
import { describeMachine } from './machine.js';
import {
  type CommandCost,
  type MemoryFootprint,
  measureCommandsPerJob,
  measureMemoryFootprint,
} from './redis-footprint.js';
import { recordSection } from './report.js';
import { measureApiSubmit, measureRawAdd } from './submit-throughput.js';

/**
 * Issue 16's table, before and after its cuts, in one run: the same figures measured on a
 * checkout of the code before (`BENCH_BEFORE_ROOT`, with its own node_modules) and on this one,
 * each next to raw BullMQ on the same machine in the same run. Recorded as `before-after`.
 */
const CONNECTIONS = 32;
const SUBMIT_S = Number(process.env.BENCH_SUBMIT_DURATION_S ?? 8);
const E2E_JOBS = Number(process.env.BENCH_E2E_JOBS ?? 300);
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 150);
const COMMAND_JOBS = 300;

interface CodeFigures {
  memory: MemoryFootprint;
  commands: { submit: CommandCost; worker: CommandCost };
  submitPerSecond: number;
  e2ePerSecond: number;
  latency: { p50Ms: number; p99Ms: number; directP50Ms: number; directP99Ms: number };
}

/** An empty Redis between measures, as run.ts starts its end-to-end run. */
async function flush(url: string) {
  const admin = new Redis(url);
  await admin.flushall();
  await admin.quit();
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function measureCode(root: string | undefined): Promise<CodeFigures> {
  const footprintStack = await startBenchStack({ root, simImages: 'prerendered' });
  let memory: MemoryFootprint;
  let commands: CodeFigures['commands'];
  try {
    memory = await measureMemoryFootprint(footprintStack, BATCH_LINES);
    commands = await measureCommandsPerJob(footprintStack, COMMAND_JOBS);
  } finally {
    await footprintStack.close();
  }
  const stack = await startBenchStack({ root, simImages: 'prerendered' });
  try {
    const submit = await measureApiSubmit(stack, CONNECTIONS, SUBMIT_S);
    if (submit.errors > 0) throw new Error(`${submit.errors} submits failed`);
    await flush(stack.redis.url);
    await stack.startWorker(50);
    const e2ePerSecond = await measureFluxqEndToEnd(stack, E2E_JOBS, 16);
    const added = await measureAddedLatency(stack, LATENCY_REQUESTS);
    return {
      memory,
      commands,
      submitPerSecond: submit.perSecond,
      e2ePerSecond,
      latency: {
        p50Ms: added.fluxq.p50Ms,
        p99Ms: added.fluxq.p99Ms,
        directP50Ms: added.direct.p50Ms,
        directP99Ms: added.direct.p99Ms,
      },
    };
  } finally {
    await stack.close();
  }
}

const commitOf = (root: string) => {
  try {
    return execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return root;
  }
};

const topCommands = (cost: CommandCost) =>
  cost.top
    .filter((t) => t.perJob >= 0.5)
    .slice(0, 6)
    .map((t) => `${t.command} ${fmt(t.perJob, 1)}`)
    .join(', ');

export async function beforeAfterBench(): Promise<void> {
  const beforeRoot = process.env.BENCH_BEFORE_ROOT;
  if (!beforeRoot) {
    console.log(
      'before-after: set BENCH_BEFORE_ROOT to a checkout of the code before (with node_modules); skipped',
    );
    return;
  }
  console.log(`before-after: the code at ${beforeRoot} …`);
  const before = await measureCode(beforeRoot);
  console.log('before-after: this code …');
  const after = await measureCode(undefined);
  console.log('before-after: raw BullMQ baselines …');
  const raw = await startBenchStack({ simImages: 'prerendered' });
  let rawAdd: number;
  let rawBulkMs: number;
  let rawProcess: number;
  try {
    rawAdd = (await measureRawAdd(raw.redis.url, CONNECTIONS, SUBMIT_S)).perSecond;
    rawBulkMs = (await measureRawAddBulk(raw.redis.url)).acceptMs;
    await flush(raw.redis.url);
    rawProcess = await measureRawProcessing(raw.redis.url, E2E_JOBS, 50);
  } finally {
    await raw.close();
  }
  const x = (a: number, b: number) => `${fmt(a / b, 2)}×`;
  const rows = [
    `| Redis \`used_memory\` per queued job, B (${fmt(BATCH_LINES)}-line batch; baseline: raw \`addBulk\`) | ${fmt(before.memory.usedMemoryPerJob)} | ${fmt(after.memory.usedMemoryPerJob)} | ${fmt(after.memory.rawPerJob)} | ${x(after.memory.usedMemoryPerJob, after.memory.rawPerJob)} | ≤ 1,500 B |`,
    `| added latency of one \`POST /v1/images/generations\`, p50 / p99, ms (baseline: the sim called directly) | +${fmt(before.latency.p50Ms - before.latency.directP50Ms, 1)} / +${fmt(before.latency.p99Ms - before.latency.directP99Ms, 1)} | +${fmt(after.latency.p50Ms - after.latency.directP50Ms, 1)} / +${fmt(after.latency.p99Ms - after.latency.directP99Ms, 1)} | ${fmt(after.latency.directP50Ms, 1)} / ${fmt(after.latency.directP99Ms, 1)} | — | p99 ≤ 40 ms |`,
    `| \`POST /v1/jobs\`, jobs/s (${CONNECTIONS} clients, 1 API process; baseline: \`queue.add\`) | ${fmt(before.submitPerSecond)} | ${fmt(after.submitPerSecond)} | ${fmt(rawAdd)} | ${x(after.submitPerSecond, rawAdd)} (before ${x(before.submitPerSecond, rawAdd)}) | ≥ 0.25× |`,
    `| ${fmt(BATCH_LINES)}-line batch, first byte → 202, s (baseline: \`addBulk\` × 1,000) | ${fmt(before.memory.acceptMs / 1000, 2)} | ${fmt(after.memory.acceptMs / 1000, 2)} | ${fmt(rawBulkMs / 1000, 2)} | ${x(after.memory.acceptMs, rawBulkMs)} slower (before ${x(before.memory.acceptMs, rawBulkMs)}) | ≤ 1.5× |`,
    `| end to end, jobs/s (${E2E_JOBS} jobs, fal-sim at zero latency, prerendered; baseline: no-op BullMQ jobs) | ${fmt(before.e2ePerSecond, 1)} | ${fmt(after.e2ePerSecond, 1)} | ${fmt(rawProcess, 1)} | ${x(after.e2ePerSecond, rawProcess)} (before ${x(before.e2ePerSecond, rawProcess)}) | ≥ 0.1× |`,
  ];
  const families = new Set([...before.memory.families, ...after.memory.families].map((f) => f.family));
  const perJob = (m: MemoryFootprint, family: string) => {
    const f = m.families.find((c) => c.family === family);
    return f ? f.bytes / m.jobs : 0;
  };
  const familyRows = [...families]
    .map((family) => ({ family, b: perJob(before.memory, family), a: perJob(after.memory, family) }))
    .filter((r) => r.b >= 1 || r.a >= 1)
    .sort((p, q) => q.b + q.a - (p.b + p.a))
    .map((r) => `| \`${r.family}\` | ${fmt(r.b)} | ${fmt(r.a)} |`);
  const commandRows = (['submit', 'worker'] as const).map(
    (path) =>
      `| ${path} | ${fmt(before.commands[path].perJob, 1)} (${fmt(before.commands[path].scriptsPerJob, 1)} scripts): ${topCommands(before.commands[path])} | ${fmt(after.commands[path].perJob, 1)} (${fmt(after.commands[path].scriptsPerJob, 1)} scripts): ${topCommands(after.commands[path])} |`,
  );
  const body = [
    '## Issue 16: before and after, in one run',
    '',
    `Command: \`BENCH_ONLY=before-after BENCH_BEFORE_ROOT=<checkout of ${commitOf(beforeRoot)}> npm run bench\` · before: ${commitOf(beforeRoot)} · after: ${commitOf(process.cwd())} · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| figure | before | after | baseline (same run) | after / baseline | bar |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    'Every figure of both columns: the API and worker of that checkout as separate processes, a private',
    'redis-server, the in-process fal-sim at time scale 0 in **prerendered** image mode (one 512×512 PNG',
    'reused). The submit and end-to-end rows ran 1 API process (the `throughput` section has N processes).',
    '',
    `Redis bytes per queued job by key family (\`MEMORY USAGE … SAMPLES 0\`, the ${fmt(BATCH_LINES)}-line batch):`,
    '',
    '| key family | before, B/job | after, B/job |',
    '|---|---|---|',
    ...familyRows,
    '',
    `Commands Redis ran per job (\`INFO commandstats\` deltas, inside scripts included; ${COMMAND_JOBS} single jobs):`,
    '',
    '| path | before: per job (script calls), top | after: per job (script calls), top |',
    '|---|---|---|',
    ...commandRows,
  ].join('\n');
  console.log(`\n${body}\n`);
  await recordSection('before-after', body);
}
