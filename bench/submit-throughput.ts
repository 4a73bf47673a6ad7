import { getFreePort, spawnService } from '@fluxq/testing';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import type { BenchStack } from './harness.js';

export interface ThroughputResult {
  perSecond: number;
  /** Requests answered in the run. */
  total: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** `POST /v1/jobs` under `connections` concurrent clients for `durationS`, measured by autocannon. */
export async function measureApiSubmit(
  stack: Pick<BenchStack, 'apiUrl'>,
  connections: number,
  durationS: number,
): Promise<ThroughputResult> {
  const result = await autocannon({
    url: `${stack.apiUrl}/v1/jobs`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a lighthouse at dawn, watercolor', size: '512x512' }),
    connections,
    duration: durationS,
  });
  return {
    perSecond: result.requests.average,
    total: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.non2xx + result.errors,
  };
}

/** Raw BullMQ `queue.add` from `connections` concurrent loops for `durationS`: the floor we build on. */
export async function measureRawAdd(
  redisUrl: string,
  connections: number,
  durationS: number,
): Promise<ThroughputResult> {
  const queue = new Queue('bench-raw-add', { connection: { url: redisUrl }, prefix: '{bench}' });
  await queue.waitUntilReady();
  const latencies: number[] = [];
  const deadline = performance.now() + durationS * 1000;
  const data = { prompt: 'a lighthouse at dawn, watercolor', size: '512x512' };
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        await queue.add('image', data, { attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
        latencies.push(performance.now() - started);
      }
    }),
  );
  await queue.obliterate({ force: true });
  await queue.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    perSecond: latencies.length / durationS,
    total: latencies.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors: 0,
  };
}

/**
 * The same load against a bare express app (express.json() and a 202, nothing behind it) in a
 * process of its own: what any express API can reach on this machine at best.
 */
export async function measureExpressCeiling(
  connections: number,
  durationS: number,
): Promise<ThroughputResult> {
  const port = await getFreePort();
  const server = await spawnService({
    name: 'express-ceiling',
    entry: 'bench/express-ceiling-server.ts',
    env: { BENCH_CEILING_PORT: String(port) },
    ready: { url: `http://127.0.0.1:${port}/healthz` },
  });
  try {
    return await measureApiSubmit({ apiUrl: `http://127.0.0.1:${port}` }, connections, durationS);
  } finally {
    await server.stop();
  }
}
