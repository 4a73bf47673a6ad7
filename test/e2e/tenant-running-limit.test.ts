import type { JobRecord } from '@fluxq/core';
import { createRedis } from '@fluxq/queue';
import { createJobStore } from '@fluxq/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const LIMIT = 2;
const JOBS = 10;
const KEY = 'fq_e2e_runner_key';
const auth = { authorization: `Bearer ${KEY}` };

/** Most intervals [start, end] open at one instant. */
function peakOverlap(intervals: Array<[number, number]>): number {
  const edges = intervals.flatMap(([start, end]) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  // At equal times an end comes first: a job that ends as another starts did not overlap it.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  for (const edge of edges) {
    open += edge.delta;
    peak = Math.max(peak, open);
  }
  return peak;
}

describe('TENANT_MAX_RUNNING_JOBS across worker processes', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      // Requests take about 100-300 ms at fal, so a tenant's jobs would overlap without the limit.
      sim: { timeScale: 0.05 },
      workers: 2,
      apiEnv: { API_KEYS: `${KEY}:runner`, TENANT_MAX_RUNNING_JOBS: String(LIMIT) },
      // One fal request per job, so requests in progress at fal are the tenant's running jobs.
      workerEnv: { WORKER_CONCURRENCY: '10', HEDGE_PRIORITIES: 'none' },
    });
  });
  afterAll(async () => stack?.close());

  it(`runs ${JOBS} jobs of one tenant at most ${LIMIT} at a time; the others wait and none fails`, async () => {
    const ids = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const body = { model: 'flux.2-dev-turbo', prompt: `tenant limit ${i}`, size: '512x512' };
        return (await submitJob(stack.apiUrl, body, auth)).id;
      }),
    );
    const jobs = await Promise.all(ids.map((id) => waitForTerminal(stack.apiUrl, id, 60_000, auth)));
    expect(jobs.map((job) => job.status)).toEqual(Array(JOBS).fill('succeeded'));
    // Waiting for a slot spends no attempt.
    expect(jobs.map((job) => job.attempts)).toEqual(Array(JOBS).fill(1));

    const stats = stack.sim.stats();
    expect(stats.submits).toBe(JOBS);
    expect(stats.peakInProgress).toBeLessThanOrEqual(LIMIT);
    // The limit was reached, so it is the gate, not a lack of work, that held the peak.
    expect(stats.peakInProgress).toBe(LIMIT);

    // The records agree: from running (fal has its request) to completed, never more than LIMIT
    // at once. (A job may prepare its inputs before its grant; it is still queued then.)
    const redis = createRedis({ url: stack.redis.url, role: 'worker' });
    try {
      const records = (await createJobStore(redis).getMany(ids)) as JobRecord[];
      const intervals = records.map((record): [number, number] => [
        record.fal_requests[0]!.submitted_at,
        record.created_ms + record.timings.total_ms!,
      ]);
      expect(peakOverlap(intervals)).toBeLessThanOrEqual(LIMIT);
    } finally {
      redis.disconnect();
    }

    // Every slot and every queued place was given back.
    const usage = await (await fetch(`${stack.apiUrl}/v1/usage`, { headers: auth })).json();
    expect(usage).toMatchObject({ queued_jobs: 0, running_jobs: 0, max_running_jobs: LIMIT });
  });
});
