import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJob } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * `queue_position` on the real stack (FAL_MAX_CONCURRENCY=2, every fal request hangs until
 * cancelled): a tenant at its `max_running_jobs` is passed over at the grant, so its waiting jobs
 * are not counted before another tenant's; and job lists show the same places as the job itself.
 */
const LIMIT = 2;
const key = (tenant: string) => `fq_place_tenant_${tenant}`;
const auth = (tenant: string) => ({ authorization: `Bearer ${key(tenant)}` });

interface View {
  id: string;
  status: string;
  queue_position: number | null;
  estimated_start_at: number | null;
}

let stack: Stack;
let keysDir: string;

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'fluxq-place-keys-'));
  const keysFile = join(keysDir, 'keys.json');
  const tenants = {
    // At most one job of `limited` runs at once; `other` has no limit.
    limited: { keys: [key('limited')], limits: { max_running_jobs: 1 } },
    other: { keys: [key('other')] },
  };
  await writeFile(keysFile, JSON.stringify({ tenants }));
  stack = await startStack({
    workers: 1,
    apiEnv: { API_KEYS_FILE: keysFile },
    workerEnv: { FAL_MAX_CONCURRENCY: String(LIMIT), HEDGE_PRIORITIES: 'none', FAL_POLL_INTERVAL_MS: '10' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

async function api<T>(tenant: string, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...auth(tenant), ...init.headers },
  });
  return (await response.json()) as T;
}

const submit = async (tenant: string, n: number) =>
  (
    await submitJob(
      stack.apiUrl,
      { model: 'flux.2-dev-turbo', prompt: `${tenant} ${n}`, size: '512x512' },
      auth(tenant),
    )
  ).id;
const job = (tenant: string, id: string) => api<View>(tenant, `/v1/jobs/${id}`);
const statusIs = (tenant: string, id: string, status: string) => async () =>
  (await job(tenant, id)).status === status;

describe('queue_position (issue 14)', () => {
  it('passes over a tenant at its running limit, as the grant does; lists show the same places', async () => {
    stack.sim.reset();
    stack.sim.setFaults([{ on: 'outcome', hang: true, times: -1 }]);
    // Both slots busy: one of `limited` (now at its limit) and one of `other`.
    const limited1 = await submit('limited', 1);
    await waitFor(statusIs('limited', limited1, 'running'), { message: 'limited1 at fal' });
    const other1 = await submit('other', 1);
    await waitFor(statusIs('other', other1, 'running'), { message: 'other1 at fal' });
    const limited2 = await submit('limited', 2);
    const limited3 = await submit('limited', 3);
    const other2 = await submit('other', 2);

    // `limited` holds the ring's turn, but its jobs cannot be granted while limited1 runs: the
    // next free slot goes to other2, so nothing is ahead of it.
    const waiting = await job('other', other2);
    expect(waiting).toMatchObject({ status: 'queued', queue_position: 0 });
    expect(waiting.estimated_start_at).toEqual(expect.any(Number));

    // The list answers the places GET /v1/jobs/{id} does, and none for jobs past queued.
    const otherList = await api<{ data: View[] }>('other', '/v1/jobs?limit=10');
    expect(otherList.data.map((j) => [j.id, j.status, j.queue_position])).toEqual([
      [other2, 'queued', 0],
      [other1, 'running', null],
    ]);
    expect(otherList.data[0]!.estimated_start_at).toEqual(expect.any(Number));
    expect(otherList.data[1]!.estimated_start_at).toBeNull();
    const singles = await Promise.all([limited3, limited2].map((id) => job('limited', id)));
    const limitedList = await api<{ data: View[] }>('limited', '/v1/jobs?status=queued&limit=10');
    expect(limitedList.data.map((j) => [j.id, j.queue_position])).toEqual(
      singles.map((j) => [j.id, j.queue_position]),
    );
    expect(singles.every((j) => typeof j.queue_position === 'number')).toBe(true);

    // And the grant agrees: other1's slot, once freed, goes to other2, not to limited's jobs.
    await api('other', `/v1/jobs/${other1}/cancel`, { method: 'POST' });
    await waitFor(statusIs('other', other2, 'running'), { message: 'other2 granted the freed slot' });
    expect((await job('limited', limited2)).status).toBe('queued');
    expect((await job('limited', limited3)).status).toBe('queued');

    for (const [tenant, id] of [
      ['limited', limited3],
      ['limited', limited2],
      ['limited', limited1],
      ['other', other2],
    ] as const) {
      await api(tenant, `/v1/jobs/${id}/cancel`, { method: 'POST' });
    }
  });
});
