import { recordKeys } from '@fluxq/store';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { batchJsonl, measureBatchAccept } from './batch-throughput.js';
import type { BenchStack } from './harness.js';

/**
 * Where fluxq's Redis cost goes (issue 16, step 1): memory per queued job by key family, and
 * the commands Redis runs per job on the submit path and on the worker path.
 */

/** One key family (ids in the key replaced by `*`) and what it costs per job. */
export interface FamilyCost {
  family: string;
  keys: number;
  bytes: number;
}

export interface MemoryFootprint {
  jobs: number;
  /** `used_memory` after the accept minus before, per job. */
  usedMemoryPerJob: number;
  /** The same for raw BullMQ `addBulk` of the same payloads, on a flushed Redis. */
  rawPerJob: number;
  families: FamilyCost[];
  /** The batch's first byte to its 202, ms. */
  acceptMs: number;
}

export interface CommandCost {
  jobs: number;
  /** Every command Redis ran (script-internal calls included), per job. */
  perJob: number;
  /** Script calls (EVALSHA/EVAL/FCALL), per job: each is one round trip. */
  scriptsPerJob: number;
  top: { command: string; perJob: number }[];
}

const usedMemory = async (redis: Redis) =>
  Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);

/** A key's family: every id-like segment becomes `*` (job_…, batch_…, uuids, long hex, numbers). */
export function familyOf(key: string): string {
  return key
    .split(':')
    .map((part) =>
      /^(job|batch|up|upl|file|del|dlv)_[0-9a-z]+$/i.test(part) ||
      /^[0-9a-f-]{16,}$/i.test(part) ||
      /^\d+$/.test(part)
        ? '*'
        : part,
    )
    .join(':');
}

/**
 * Every key's size by family: families with many keys are sampled (`sample` keys each,
 * `MEMORY USAGE … SAMPLES 0`, exact per key) and scaled by their key count.
 */
async function familyCosts(redis: Redis, sample = 200): Promise<FamilyCost[]> {
  const byFamily = new Map<string, string[]>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 2_000);
    cursor = next;
    for (const key of keys) {
      const family = familyOf(key);
      const list = byFamily.get(family) ?? [];
      list.push(key);
      byFamily.set(family, list);
    }
  } while (cursor !== '0');
  const costs: FamilyCost[] = [];
  for (const [family, keys] of byFamily) {
    const picked =
      keys.length <= sample ? keys : keys.filter((_, i) => i % Math.ceil(keys.length / sample) === 0);
    let bytes = 0;
    for (const key of picked)
      bytes += Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
    costs.push({ family, keys: keys.length, bytes: (bytes / picked.length) * keys.length });
  }
  return costs.sort((a, b) => b.bytes - a.bytes);
}

/**
 * A batch of `jobs` lines through the API (no worker running), then Redis's memory before vs
 * after and by key family; raw BullMQ `addBulk` of the same payloads on a flushed Redis after.
 */
export async function measureMemoryFootprint(stack: BenchStack, jobs: number): Promise<MemoryFootprint> {
  const redis = new Redis(stack.redis.url);
  try {
    const before = await usedMemory(redis);
    const familiesBefore = new Map((await familyCosts(redis)).map((f) => [f.family, f]));
    const accept = await measureBatchAccept(stack, batchJsonl(jobs));
    const after = await usedMemory(redis);
    const families = (await familyCosts(redis))
      .map((f) => ({
        ...f,
        keys: f.keys - (familiesBefore.get(f.family)?.keys ?? 0),
        bytes: f.bytes - (familiesBefore.get(f.family)?.bytes ?? 0),
      }))
      .filter((f) => f.bytes > 0);
    const rawPerJob = await rawAddBulkFootprint(redis, stack.redis.url, jobs);
    return {
      jobs,
      usedMemoryPerJob: (after - before) / jobs,
      rawPerJob,
      families,
      acceptMs: accept.acceptMs,
    };
  } finally {
    redis.disconnect();
  }
}

/** Raw BullMQ's own cost per queued job: the floor (the same payloads and options as the batch bench). */
async function rawAddBulkFootprint(redis: Redis, url: string, jobs: number): Promise<number> {
  await redis.flushall();
  const queue = new Queue('bench-raw-footprint', { connection: { url }, prefix: '{bench}' });
  await queue.waitUntilReady();
  const before = await usedMemory(redis);
  for (let start = 0; start < jobs; start += 1_000) {
    const chunk = [];
    for (let i = start; i < Math.min(jobs, start + 1_000); i++) {
      chunk.push({
        name: 'image',
        data: { model: 'flux.2-dev-turbo', prompt: `tiny ${i}`, size: '512x512', n: 1 },
        opts: { priority: 10 },
      });
    }
    await queue.addBulk(chunk);
  }
  const perJob = ((await usedMemory(redis)) - before) / jobs;
  await queue.obliterate({ force: true });
  await queue.close();
  return perJob;
}

const commandCounts = async (redis: Redis) => {
  const counts = new Map<string, number>();
  for (const match of (await redis.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g))
    counts.set(match[1]!, Number(match[2]));
  return counts;
};

/** The commands Redis ran while `work` handled `jobs` jobs, per job (the INFO calls themselves left out). */
/** Calls per command Redis ran while `work` ran (the INFO call that ends the count left out). */
async function commandsDuring(redis: Redis, work: () => Promise<void>): Promise<Map<string, number>> {
  const before = await commandCounts(redis);
  await work();
  const after = await commandCounts(redis);
  const deltas = new Map<string, number>();
  for (const [command, calls] of after) {
    const delta = calls - (before.get(command) ?? 0) - (command === 'info' ? 1 : 0);
    if (delta > 0) deltas.set(command, delta);
  }
  return deltas;
}

const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'fcall', 'evalsha_ro', 'eval_ro']);

/** Calls per command over `jobs`, less a fixed cost (`minus`: e.g. a worker's start and stop). */
function costPerJob(
  calls: Map<string, number>,
  jobs: number,
  minus = new Map<string, number>(),
): CommandCost {
  const net = [...calls]
    .map(([command, n]) => ({ command, calls: n - (minus.get(command) ?? 0) }))
    .filter((d) => d.calls > 0)
    .sort((a, b) => b.calls - a.calls);
  const sum = (rows: typeof net) => rows.reduce((total, d) => total + d.calls, 0);
  return {
    jobs,
    perJob: sum(net) / jobs,
    scriptsPerJob: sum(net.filter((d) => SCRIPT_COMMANDS.has(d.command))) / jobs,
    top: net.slice(0, 8).map((d) => ({ command: d.command, perJob: d.calls / jobs })),
  };
}

/**
 * `jobs` single `POST /v1/jobs` one after another (no worker running: the submit path alone),
 * then one worker takes them all to `succeeded` (the worker path), each counted apart.
 */
export async function measureCommandsPerJob(
  stack: BenchStack,
  jobs: number,
): Promise<{ submit: CommandCost; worker: CommandCost }> {
  const redis = new Redis(stack.redis.url);
  const events = new Redis(stack.redis.url);
  try {
    await redis.flushall();
    // A worker's start and stop on an empty queue: its fixed cost, taken off the worker path.
    const startUp = await commandsDuring(redis, async () => {
      await (await stack.startWorker(50)).stop();
    });
    await redis.flushall();
    const submit = await commandsDuring(redis, async () => {
      for (let i = 0; i < jobs; i++) {
        const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `footprint ${i}`, size: '512x512', seed: i }),
        });
        if (response.status !== 202) throw new Error(`submit answered ${response.status}`);
        await response.arrayBuffer();
      }
    });
    let succeeded = 0;
    let allDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    events.on('message', (_channel: string, message: string) => {
      if (message.endsWith(' succeeded') && ++succeeded >= jobs) allDone();
    });
    await events.subscribe(recordKeys.jobEvents);
    const worker = await commandsDuring(redis, async () => {
      const service = await stack.startWorker(50);
      await done;
      await service.stop();
    });
    return { submit: costPerJob(submit, jobs), worker: costPerJob(worker, jobs, startUp) };
  } finally {
    events.disconnect();
    redis.disconnect();
  }
}
