import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobRecord } from '@fluxq/core';
import { createRedis } from '@fluxq/queue';
import { createJobStore, type JobStore } from '@fluxq/store';
import { waitFor } from '@fluxq/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJob } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * Issue 14's acceptance: fal capacity (FAL_MAX_CONCURRENCY=4, three worker processes) is granted
 * by class, then deficit round-robin over tenants, then FIFO. fal jobs take 1 s at the simulator
 * in the fairness run (the top of the issue's 0.3–1 s, fixed so the bounds do not depend on
 * chance; a slot's handoff costs tens of ms, more on a loaded machine, and is a smaller share of
 * a longer job) and 400 ms in the interactive run; the weights run uses 150 ms, which changes
 * only how long it takes, not the ratio it checks.
 */
const LIMIT = 4;
const JOB_MS = 400;
const FAIR_RUN_JOB_MS = 1_000;
const TENANTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const;
type Tenant = (typeof TENANTS)[number];
const key = (tenant: Tenant) => `fq_sched_tenant_${tenant}`;
const auth = (tenant: Tenant) => ({ authorization: `Bearer ${key(tenant)}` });
const WEIGHTS: Partial<Record<Tenant, number>> = { e: 3, f: 1 };

interface View {
  id: string;
  status: string;
  queue_position: number | null;
  estimated_start_at: number | null;
}
interface BatchView {
  id: string;
  status: string;
  request_counts: { total: number; succeeded: number; failed: number; canceled: number };
}

let stack: Stack;
let redis: Redis;
let store: JobStore;
let keysDir: string;

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'fluxq-sched-keys-'));
  const keysFile = join(keysDir, 'keys.json');
  const tenants = Object.fromEntries(
    TENANTS.map((t) => [t, { keys: [key(t)], ...(WEIGHTS[t] ? { limits: { weight: WEIGHTS[t] } } : {}) }]),
  );
  await writeFile(keysFile, JSON.stringify({ tenants }));
  stack = await startStack({
    workers: 3,
    apiEnv: { API_KEYS_FILE: keysFile },
    workerEnv: {
      FAL_MAX_CONCURRENCY: String(LIMIT),
      WORKER_CONCURRENCY: '8',
      HEDGE_PRIORITIES: 'none',
      FAL_POLL_INTERVAL_MS: '10',
    },
  });
  redis = createRedis({ url: stack.redis.url, role: 'worker' });
  store = createJobStore(redis);
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.close();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

async function api<T>(tenant: Tenant, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...auth(tenant), ...init.headers },
  });
  return (await response.json()) as T;
}

async function submitBatch(tenant: Tenant, count: number): Promise<BatchView> {
  const requests = Array.from({ length: count }, (_, i) => ({
    custom_id: `${tenant}-${i}`,
    prompt: `${tenant} ${i}`,
    size: '512x512',
  }));
  return api<BatchView>(tenant, '/v1/batches', {
    method: 'POST',
    body: JSON.stringify({ requests, priority: 'bulk' }),
  });
}

const batchOf = (tenant: Tenant, id: string) => api<BatchView>(tenant, `/v1/batches/${id}`);

async function cancelBatch(tenant: Tenant, id: string) {
  await api(tenant, `/v1/batches/${id}/cancel`, { method: 'POST' });
  await waitFor(async () => (await batchOf(tenant, id)).status === 'cancelled', { timeoutMs: 60_000 });
}

/** Every job of a batch, as the store has it. */
async function batchRecords(batchId: string): Promise<JobRecord[]> {
  const ids = (await redis.lrange(`{fluxq}:batch:${batchId}:lines`, 0, -1)).map((l) => l.split(' ')[0]!);
  const records: JobRecord[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    for (const r of await store.getMany(ids.slice(i, i + 500))) if (r) records.push(r);
  }
  return records;
}

/** When a finished job finished, ms (its creation plus its total time). */
const doneMs = (r: JobRecord) => (r.timings.total_ms === null ? null : r.created_ms + r.timings.total_ms);

/** The fal request of a running job, as the simulator reports it. */
async function simStatusOf(record: JobRecord): Promise<string | undefined> {
  const ref = record.fal_requests[0];
  if (!ref) return undefined;
  const [owner, app] = ref.endpoint.split('/');
  const response = await fetch(`${stack.sim.url}/${owner}/${app}/requests/${ref.request_id}/status`, {
    headers: { authorization: 'Key e2e' },
  });
  return response.ok ? ((await response.json()) as { status: string }).status : undefined;
}

describe('fal capacity granted by class, tenant and FIFO (issue 14)', () => {
  it('gives the next free slot to an interactive job, before any waiting bulk job', async () => {
    stack.sim.reset();
    // The first 4 bulk requests hang at fal (all slots busy); the rest finish normally.
    stack.sim.setFaults([
      { on: 'outcome', endpoint: 'fal-ai/flux-2/turbo', hang: true, times: LIMIT },
      { on: 'outcome', delayMs: JOB_MS, times: -1 },
    ]);
    const bulk = await submitBatch('g', 20);
    await waitFor(() => stack.sim.stats().inProgress === LIMIT, { message: 'all slots busy with bulk work' });
    const urgent = await submitJob(
      stack.apiUrl,
      { model: 'flux.2-dev-flash', prompt: 'urgent', size: '512x512', priority: 'interactive' },
      auth('c'),
    );
    // Ahead of all 16 waiting bulk jobs.
    expect((await api<View>('c', `/v1/jobs/${urgent.id}`)).queue_position).toBe(0);
    const hanging = (await batchRecords(bulk.id)).filter((r) => r.status === 'running');
    expect(hanging).toHaveLength(LIMIT);
    // One slot frees: it must go to the interactive job.
    await api('g', `/v1/jobs/${hanging[0]!.id}/cancel`, { method: 'POST' });
    const running = await waitFor(
      async () => {
        const r = await store.get(urgent.id);
        return r?.status === 'running' || r?.status === 'succeeded' ? r : undefined;
      },
      { message: 'the interactive job to start' },
    );
    // Nothing else was granted between its submit and its start: the bulk requests fal got
    // before it are exactly the 4 that hung (the next bulk one waits for a slot to free again).
    const submittedMs = (r: JobRecord) => r.fal_requests[0]?.submitted_at ?? Number.POSITIVE_INFINITY;
    const urgentAtFal = submittedMs(running);
    const before = (await batchRecords(bulk.id)).filter((r) => submittedMs(r) <= urgentAtFal);
    expect(before.map((r) => r.id).sort()).toEqual(hanging.map((r) => r.id).sort());
    await cancelBatch('g', bulk.id);
  }, 90_000);

  it('finishes c’s and d’s jobs before a’s and b’s big batches take the capacity; slots never idle, never over', async () => {
    stack.sim.reset();
    stack.sim.setFaults([{ on: 'outcome', delayMs: FAIR_RUN_JOB_MS, times: -1 }]);
    const [batchA, batchB] = await Promise.all([submitBatch('a', 1_500), submitBatch('b', 1_500)]);
    const abDone = async () =>
      (await batchOf('a', batchA.id)).request_counts.succeeded +
      (await batchOf('b', batchB.id)).request_counts.succeeded;
    await waitFor(async () => (await abDone()) >= 2 * LIMIT, {
      timeoutMs: 60_000,
      message: 'a and b running',
    });

    const startMs = Date.now();
    const falBefore = stack.sim.stats().inProgressMs;
    // c first, so no later arrival of a higher class moves d's places up.
    const cJobs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        submitJob(stack.apiUrl, { prompt: `c ${i}`, size: '512x512', priority: 'default' }, auth('c')),
      ),
    );
    const dJobs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        submitJob(stack.apiUrl, { prompt: `d ${i}`, size: '512x512', priority: 'bulk' }, auth('d')),
      ),
    );
    // Watch their places in line while they wait, and a running one at fal.
    const watched = [
      ...cJobs.map((j) => ({ id: j.id, t: 'c' as const })),
      ...dJobs.map((j) => ({ id: j.id, t: 'd' as const })),
    ];
    const places = new Map<string, Array<{ position: number; estimate: number | null; atS: number }>>();
    let runningAtFal: string | undefined;
    const done = await waitFor(
      async () => {
        const views = await Promise.all(watched.map((w) => api<View>(w.t, `/v1/jobs/${w.id}`)));
        for (const view of views) {
          if (view.status === 'queued' && view.queue_position !== null) {
            const list = places.get(view.id) ?? [];
            list.push({
              position: view.queue_position,
              estimate: view.estimated_start_at,
              atS: Date.now() / 1000,
            });
            places.set(view.id, list);
          }
          if (view.status === 'running' && !runningAtFal) {
            const record = await store.get(view.id);
            const atFal = record && (await simStatusOf(record));
            if (atFal === 'IN_PROGRESS' || atFal === 'IN_QUEUE') runningAtFal = view.id;
          }
        }
        return views.every((v) => v.status === 'succeeded') ? views : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, message: 'c’s and d’s jobs to succeed' },
    );
    const endMs = Date.now();
    const falMs = stack.sim.stats().inProgressMs - falBefore;
    expect(done).toHaveLength(20);

    const finished = async (ids: string[]) =>
      (await store.getMany(ids)).map((r) => doneMs(r!)!).reduce((a, b) => Math.max(a, b), 0);
    const cLast = await finished(cJobs.map((j) => j.id));
    const dLast = await finished(dJobs.map((j) => j.id));
    const ab = [...(await batchRecords(batchA.id)), ...(await batchRecords(batchB.id))];
    const abBetween = (untilMs: number) =>
      ab.filter((r) => r.status === 'succeeded' && doneMs(r)! > startMs && doneMs(r)! <= untilMs).length;
    const cBound = abBetween(cLast);
    const dBound = abBetween(dLast);
    const utilisation = falMs / (endMs - startMs) / LIMIT;
    console.log(
      `scheduling: a+b completed ${cBound} before c's last, ${dBound} before d's last; ` +
        `fal utilisation ${(utilisation * 100).toFixed(1)} %, peak ${stack.sim.stats().peakInProgress}`,
    );
    expect(cBound).toBeLessThan(12);
    expect(dBound).toBeLessThan(30);
    // No idle capacity while work waits (a and b have over 2,800 waiting), and never over the limit.
    expect(utilisation).toBeGreaterThanOrEqual(0.9);
    expect(stack.sim.stats().peakInProgress).toBe(LIMIT);

    // Places count down: never up, and the jobs further back showed them from above 0 down to 0.
    for (const [, seen] of places) {
      const positions = seen.map((s) => s.position);
      expect(positions).toEqual([...positions].sort((x, y) => y - x));
      for (const s of seen)
        if (s.position > 0 && s.estimate !== null)
          expect(s.estimate).toBeGreaterThanOrEqual(Math.floor(s.atS));
    }
    const lastD = places.get(dJobs.at(-1)!.id) ?? [];
    expect(lastD[0]?.position).toBeGreaterThan(0);
    expect(lastD.some((s) => s.estimate !== null && s.estimate > s.atS)).toBe(true);
    expect([...places.values()].some((seen) => seen.some((s) => s.position === 0))).toBe(true);
    expect(runningAtFal).toBeDefined();

    await Promise.all([cancelBatch('a', batchA.id), cancelBatch('b', batchB.id)]);
  }, 240_000);

  it('grants tenants of weights 3 and 1 at 3 : 1 while both have work waiting', async () => {
    stack.sim.reset();
    stack.sim.setFaults([{ on: 'outcome', delayMs: 150, times: -1 }]);
    const [batchE, batchF] = await Promise.all([submitBatch('e', 400), submitBatch('f', 400)]);
    const counts = async () => ({
      e: (await batchOf('e', batchE.id)).request_counts.succeeded,
      f: (await batchOf('f', batchF.id)).request_counts.succeeded,
    });
    const from = await waitFor(
      async () => {
        const c = await counts();
        return c.e + c.f >= 20 ? c : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    const to = await waitFor(
      async () => {
        const c = await counts();
        return c.e + c.f >= from.e + from.f + 160 ? c : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 20 },
    );
    // Both still had work waiting (400 each; f at a quarter of the rate).
    expect(to.e).toBeLessThan(400);
    const ratio = (to.e - from.e) / (to.f - from.f);
    console.log(`scheduling: weights 3:1 completed at ${ratio.toFixed(2)} : 1`);
    expect(ratio).toBeGreaterThan(3 * 0.85);
    expect(ratio).toBeLessThan(3 * 1.15);
    await Promise.all([cancelBatch('e', batchE.id), cancelBatch('f', batchF.id)]);
  }, 240_000);
});
