import { schedulerKeys } from '@fluxq/queue';
import { startWebhookReceiver, type WebhookReceiver, waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

/**
 * Batches on the real stack (fal-sim at zero latency, three worker processes): a batch
 * runs to completion with one result line per request and exactly one `batch.completed`
 * although three workers finish its last jobs at once; a 50,000-line JSONL batch is
 * accepted in one request and cancelled mid-way, keeping finished results and leaving
 * nothing queued.
 */

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
type Json = any;

let stack: Stack;
let receiver: WebhookReceiver;
let redis: Redis;

beforeAll(async () => {
  stack = await startStack({
    workers: 3,
    workerEnv: { WORKER_CONCURRENCY: '16', HEDGE_PRIORITIES: 'none', WEBHOOK_SCHEDULE_SCALE: '0.0002' },
  });
  receiver = await startWebhookReceiver();
  redis = new Redis(stack.redis.url);
}, 120_000);
afterAll(async () => {
  await redis?.quit();
  await receiver?.stop();
  await stack?.close();
});

interface BatchView {
  id: string;
  status: string;
  request_counts: { total: number; succeeded: number; failed: number; canceled: number };
  cost: { usd: number };
  completed_at: number | null;
}

const get = async <T>(path: string) => (await (await fetch(`${stack.apiUrl}${path}`)).json()) as T;

function jsonl(count: number, prefix: string): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(
      JSON.stringify({
        custom_id: `${prefix}-${i}`,
        method: 'POST',
        url: '/v1/images/generations',
        body: { model: 'flux.2-dev-turbo', prompt: `tiny ${i}`, size: '512x512', n: 1 },
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

async function submit(text: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set('file', new Blob([text], { type: 'application/jsonl' }), 'batch.jsonl');
  const response = await fetch(`${stack.apiUrl}/v1/batches`, { method: 'POST', body: form });
  const body = (await response.json()) as BatchView;
  expect(response.status, JSON.stringify(body)).toBe(202);
  return body;
}

async function results(id: string) {
  const response = await fetch(`${stack.apiUrl}/v1/batches/${id}/results`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return text.length === 0
    ? []
    : text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Json);
}

describe('batches, end to end', () => {
  it('runs a 200-line batch to completion on 3 workers: one result per custom_id, batch.completed once', async () => {
    const batch = await submit(jsonl(200, 'small'), { webhook_url: `${receiver.url}/batch` });
    expect(batch.request_counts.total).toBe(200);
    const done = await waitFor(
      async () => {
        const view = await get<BatchView>(`/v1/batches/${batch.id}`);
        return view.status === 'completed' ? view : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    expect(done.request_counts).toEqual({ total: 200, succeeded: 200, failed: 0, canceled: 0 });
    expect(done.cost.usd).toBeGreaterThan(0);
    expect(done.completed_at).toEqual(expect.any(Number));

    const lines = await results(batch.id);
    expect(lines).toHaveLength(200);
    expect(new Set(lines.map((line) => line.custom_id)).size).toBe(200);
    expect(lines[0]).toMatchObject({ custom_id: 'small-0', status: 'succeeded', error: null });
    expect(lines[0]!.output.images[0].url).toMatch(/^http/);
    // The result URL is signed and serves the image.
    expect((await fetch(lines[0]!.output.images[0].url)).status).toBe(200);

    const [event] = await receiver.waitForRequests(1, 30_000);
    const body = JSON.parse(event!.body) as { type: string; data: BatchView };
    expect(body.type).toBe('batch.completed');
    expect(body.data).toMatchObject({
      id: batch.id,
      status: 'completed',
      request_counts: done.request_counts,
    });
    // Give any duplicate time to arrive: there must be none.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.requests.filter((r) => r.path === '/batch')).toHaveLength(1);
  }, 180_000);

  it('accepts a 50,000-line JSONL batch and cancels it mid-way: finished results kept, nothing queued', async () => {
    const started = Date.now();
    const batch = await submit(jsonl(50_000, 'big'));
    const acceptMs = Date.now() - started;
    expect(batch.request_counts.total).toBe(50_000);
    expect(batch.status).toBe('in_progress');
    console.log(`50,000-line batch accepted in ${acceptMs} ms`);

    const listed = await get<{ data: BatchView[] }>('/v1/batches?limit=1');
    expect(listed.data[0]!.id).toBe(batch.id);
    // All 50,000 are in the job store and (minus the ones workers took) waiting: in the queue
    // itself only those granted a fal slot (at most FAL_MAX_CONCURRENCY), the rest in line.
    expect(await redis.llen(`{fluxq}:batch:${batch.id}:lines`)).toBe(50_000);
    const queued = await redis.zcard('{fluxq}:images:prioritized');
    expect(queued).toBeLessThanOrEqual(10);
    const waitingFairly = await redis.zcard(schedulerKeys.wait('bulk'));
    const progress = await get<BatchView>(`/v1/batches/${batch.id}`);
    expect(queued + waitingFairly + progress.request_counts.succeeded).toBeGreaterThan(40_000);

    // Let some finish, then cancel.
    await waitFor(
      async () =>
        (await get<BatchView>(`/v1/batches/${batch.id}`)).request_counts.succeeded >= 20 || undefined,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const cancelResponse = await fetch(`${stack.apiUrl}/v1/batches/${batch.id}/cancel`, { method: 'POST' });
    expect(cancelResponse.status).toBe(200);
    const final = await waitFor(
      async () => {
        const view = await get<BatchView>(`/v1/batches/${batch.id}`);
        return view.status === 'cancelled' ? view : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const counts = final.request_counts;
    expect(counts.succeeded + counts.failed + counts.canceled).toBe(50_000);
    expect(counts.succeeded).toBeGreaterThanOrEqual(20);
    expect(counts.canceled).toBeGreaterThan(40_000);
    expect(await redis.zcard('{fluxq}:images:prioritized')).toBe(0);
    expect(await redis.llen('{fluxq}:images:wait')).toBe(0);
    expect(await redis.zcard(schedulerKeys.wait('bulk'))).toBe(0);

    const lines = await results(batch.id);
    expect(lines).toHaveLength(50_000);
    expect(lines.filter((line) => line.status === 'succeeded')).toHaveLength(counts.succeeded);
    expect(lines.find((line) => line.status === 'succeeded')!.output.images).toHaveLength(1);
  }, 300_000);
});
