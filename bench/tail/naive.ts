import { MODELS, type ModelId } from '@fluxq/core';
import { createFalQueueClient, type FalQueueClient } from '@fluxq/fal';
import type { FalSim } from '@fluxq/fal-sim';
import { runOnSchedule } from './arrivals.js';
import { drainSim } from './stack.js';
import { JOB_SIZE, type RunResult } from './stats.js';

/** fal's client guidance, real time: poll every second, give up after a minute. */
const POLL_INTERVAL_MS = 1_000;
const TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

type Outcome = { ok: true; latencyMs: number } | { ok: false };

/** One job the plain way: one submit, status polling, cancel at the fixed timeout, no retry. */
async function naiveJob(
  fal: FalQueueClient,
  endpoint: string,
  i: number,
  pollMs: number,
  timeoutMs: number,
): Promise<Outcome> {
  const started = performance.now();
  const input = { prompt: `bench tail image ${i}`, image_size: JOB_SIZE, num_images: 1, seed: i };
  let requestId: string;
  try {
    requestId = (await fal.submit(endpoint, input)).requestId;
  } catch {
    return { ok: false };
  }
  const deadline = started + timeoutMs;
  for (;;) {
    await sleep(Math.min(pollMs, deadline - performance.now()));
    if (performance.now() >= deadline) {
      await fal.cancel(endpoint, requestId).catch(() => undefined);
      return { ok: false };
    }
    const status = await fal.status(endpoint, requestId).catch(() => undefined);
    if (status?.status !== 'COMPLETED') continue;
    try {
      const result = await fal.result(endpoint, requestId);
      if (result.data.images.length === 0) return { ok: false };
      return { ok: true, latencyMs: performance.now() - started };
    } catch {
      return { ok: false };
    }
  }
}

/** NAIVE for one model: every job on the schedule straight against the sim. */
export async function runNaive(
  sim: FalSim,
  model: ModelId,
  offsets: readonly number[],
  timeScale: number,
): Promise<RunResult> {
  const fal = createFalQueueClient({ baseUrl: sim.url, key: 'bench' });
  const endpoint = MODELS[model].falEndpoints.generate;
  sim.reset();
  const outcomes = await runOnSchedule(offsets, (i) =>
    naiveJob(fal, endpoint, i, POLL_INTERVAL_MS * timeScale, TIMEOUT_MS * timeScale),
  );
  await drainSim(sim, 5_000);
  const stats = sim.stats();
  const latenciesMs = outcomes.flatMap((o) => (o.ok ? [o.latencyMs] : []));
  return {
    model,
    rate: 0,
    mode: 'naive',
    jobs: offsets.length,
    succeeded: latenciesMs.length,
    latenciesMs,
    submits: stats.submits,
    ran: stats.ran,
    billed: stats.billed,
    unfinished: 0,
  };
}
