import { MODELS } from '@fluxq/core';
import { createFalQueueClient } from '@fluxq/fal';
import type { BenchStack } from './harness.js';

/** The worker's status poll in the bench stack (harness.ts), used by the direct client too. */
const POLL_MS = 20;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
}

export interface AddedLatency {
  requests: number;
  fluxq: LatencyFigures;
  direct: LatencyFigures;
}

const figures = (samples: number[]): LatencyFigures => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
};

/**
 * What fluxq adds to one synchronous image (issue 16): `POST /v1/images/generations`
 * (accept, queue, worker, fal, download and store the output, answer in OpenAI's shape) next
 * to a client calling the same simulator directly (submit, poll status every 20 ms like the
 * worker, read the result), one request at a time, the two alternating so load hits both alike.
 */
export async function measureAddedLatency(stack: BenchStack, requests: number): Promise<AddedLatency> {
  const fal = createFalQueueClient({ baseUrl: stack.sim.url, key: 'bench' });
  const endpoint = MODELS['flux.2-dev-turbo'].falEndpoints.generate;
  const direct = async (i: number) => {
    const started = performance.now();
    const { requestId } = await fal.submit(endpoint, {
      prompt: `latency ${i}`,
      image_size: 'square',
      seed: i,
    });
    while ((await fal.status(endpoint, requestId)).status !== 'COMPLETED') await sleep(POLL_MS);
    const result = await fal.result(endpoint, requestId);
    if (result.data.images.length !== 1) throw new Error('the direct call returned no image');
    return performance.now() - started;
  };
  const viaFluxq = async (i: number) => {
    const started = performance.now();
    const response = await fetch(`${stack.apiUrl}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flux.2-dev-turbo', prompt: `latency ${i}`, size: '512x512', seed: i }),
    });
    const body = (await response.json()) as { data?: unknown[] };
    if (response.status !== 200 || body.data?.length !== 1)
      throw new Error(`images/generations answered ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
    return performance.now() - started;
  };
  // Warm both paths (JIT, connections, the worker's first job) before measuring.
  for (let i = 0; i < 10; i++) {
    await direct(requests + i);
    await viaFluxq(requests + i);
  }
  const fluxqMs: number[] = [];
  const directMs: number[] = [];
  for (let i = 0; i < requests; i++) {
    directMs.push(await direct(i));
    fluxqMs.push(await viaFluxq(i));
  }
  return { requests, fluxq: figures(fluxqMs), direct: figures(directMs) };
}
