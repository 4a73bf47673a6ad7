import { waitFor } from '@fluxq/testing';
import { expect } from 'vitest';
import { getJob, submitJob, waitForTerminal } from './jobs-client.js';
import type { Stack } from './stack.js';

/**
 * What the Cluster and Sentinel tests share: jobs and a small batch succeed; then, while
 * clients keep submitting, `killMaster` takes the Redis master holding `{fluxq}` away; every
 * job the API answered 2xx must still reach `succeeded` with the same API and workers.
 * Returns how long work stalled: from the kill until the next job was accepted and finished.
 */
export async function runJobsThroughFailover(
  stack: Stack,
  killMaster: () => Promise<void>,
): Promise<{ stallMs: number; accepted: number; refused: number }> {
  // Before: single jobs and a batch.
  const first = await Promise.all(
    Array.from({ length: 5 }, (_, i) => submitJob(stack.apiUrl, { prompt: `before ${i}`, seed: i })),
  );
  for (const job of first) expect((await waitForTerminal(stack.apiUrl, job.id)).status).toBe('succeeded');
  await runSmallBatch(stack);

  // During: a client submits every 50 ms; the master dies under it.
  const accepted: string[] = [];
  let refused = 0;
  let submitting = true;
  const client = (async () => {
    for (let i = 0; submitting; i++) {
      const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `during ${i}`, seed: i }),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      if (response && response.status >= 200 && response.status < 300) {
        accepted.push(((await response.json()) as { id: string }).id);
      } else {
        refused++;
        await response?.body?.cancel();
        // A refusal during failover must be a clear 503, never a 500.
        if (response) expect(response.status).toBe(503);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await waitFor(() => accepted.length >= 5, { timeoutMs: 10_000, message: 'jobs accepted before the kill' });
  const killedAt = Date.now();
  await killMaster();
  // Work resumes when a job accepted after the kill has gone all the way through.
  const acceptedBeforeKill = accepted.length;
  const stallMs = await waitFor(
    async () => {
      for (const id of accepted.slice(acceptedBeforeKill)) {
        const job = await getJob(stack.apiUrl, id).catch(() => undefined);
        if (job?.status === 'succeeded') return Date.now() - killedAt;
      }
      return undefined;
    },
    { timeoutMs: 40_000, intervalMs: 100, message: 'a job accepted after the failover to succeed' },
  );
  submitting = false;
  await client;

  for (const id of accepted) {
    const job = await waitForTerminal(stack.apiUrl, id, 30_000);
    expect({ id, status: job.status }).toEqual({ id, status: 'succeeded' });
  }
  await runSmallBatch(stack);
  return { stallMs, accepted: accepted.length, refused };
}

async function runSmallBatch(stack: Stack): Promise<void> {
  const lines = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({
      custom_id: `b-${i}`,
      method: 'POST',
      url: '/v1/images/generations',
      body: { model: 'flux.2-dev-turbo', prompt: `tiny ${i}`, size: '512x512', n: 1 },
    }),
  );
  const form = new FormData();
  form.set('file', new Blob([`${lines.join('\n')}\n`], { type: 'application/jsonl' }), 'batch.jsonl');
  const response = await fetch(`${stack.apiUrl}/v1/batches`, { method: 'POST', body: form });
  const batch = (await response.json()) as { id: string };
  expect(response.status, JSON.stringify(batch)).toBe(202);
  const done = await waitFor(
    async () => {
      const view = (await (await fetch(`${stack.apiUrl}/v1/batches/${batch.id}`)).json()) as {
        status: string;
        request_counts: Record<string, number>;
      };
      return view.status === 'completed' ? view : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: 'the batch to complete' },
  );
  expect(done.request_counts).toMatchObject({ total: 10, succeeded: 10 });
}
