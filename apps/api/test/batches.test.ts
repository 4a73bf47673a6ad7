import { recordKeys } from '@fluxq/store';
import { waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';

/**
 * `POST /v1/batches` and friends, in-process without a worker: accepted batches are
 * counted and queued, bad ones answer 400 `invalid_batch` naming their lines and leave
 * nothing behind, batches are tenant-scoped and listed in cursor pages.
 */

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
type Json = any;

let api: ApiHarness;
const A = { authorization: 'Bearer fq_batch_a' };
const B = { authorization: 'Bearer fq_batch_b' };
const MAX_LINE = 4 * 1024;

beforeAll(async () => {
  api = await startApi({
    API_KEYS: 'fq_batch_a:tenantA,fq_batch_b:tenantB',
    MAX_BATCH_LINE_BYTES: String(MAX_LINE),
  });
});
afterAll(async () => api?.close());

async function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const response = await fetch(`${api.url}${path}`, { ...init, headers: { ...A, ...init.headers } });
  const text = await response.text();
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body, headers: response.headers };
}

const postJson = (path: string, body: unknown, headers: Record<string, string> = A) =>
  call(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { ...headers, 'content-type': 'application/json' },
  });

function postJsonl(text: string, headers: Record<string, string> = A, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set('file', new Blob([text], { type: 'application/jsonl' }), 'batch.jsonl');
  return call('/v1/batches', { method: 'POST', body: form, headers });
}

const line = (customId: string, body: Record<string, unknown> = {}, url = '/v1/images/generations') =>
  JSON.stringify({ custom_id: customId, method: 'POST', url, body: { prompt: `p ${customId}`, ...body } });

/** What a refused batch must not change: queued BullMQ jobs and the tenant's job index. */
async function footprint() {
  const {
    waiting = 0,
    prioritized = 0,
    delayed = 0,
  } = await api.deps.queue.getJobCounts('waiting', 'prioritized', 'delayed');
  const jobs = await api.client.zcard(recordKeys.tenantJobs('tenantA'));
  const batches = await api.client.zcard('{fluxq}:tenant-batches:tenantA');
  return { waiting, prioritized, delayed, jobs, batches };
}

describe('POST /v1/batches', () => {
  it('accepts a JSON batch with 202, merges defaults and queues one bulk job per request', async () => {
    const before = await footprint();
    const { status, body, headers } = await postJson('/v1/batches', {
      requests: [
        { custom_id: 'a', prompt: 'a cat' },
        { custom_id: 'b', prompt: 'a dog', size: '1024x1024' },
        { custom_id: 'c', prompt: 'a cow', priority: 'default' },
      ],
      defaults: { size: '512x512', model: 'flux.2-dev-turbo' },
      metadata: { project: 'x' },
    });
    expect(status).toBe(202);
    expect(headers.get('location')).toBe(`/v1/batches/${body.id}`);
    expect(body).toMatchObject({
      object: 'batch',
      status: 'in_progress',
      request_counts: { total: 3, succeeded: 0, failed: 0, canceled: 0 },
      cost: { usd: 0 },
      completed_at: null,
      metadata: { project: 'x' },
      webhook_url: null,
    });
    expect(body.id).toMatch(/^batch_[0-9a-z]{25}$/);
    const after = await footprint();
    expect(after.jobs - before.jobs).toBe(3);
    expect(after.prioritized + after.waiting - before.prioritized - before.waiting).toBe(3);

    const jobs = await call(`/v1/jobs?batch_id=${body.id}&limit=10`);
    expect(jobs.status).toBe(200);
    const byPrompt = Object.fromEntries(jobs.body.data.map((job: Json) => [job.input.prompt, job]));
    expect(Object.keys(byPrompt).sort()).toEqual(['a cat', 'a cow', 'a dog']);
    expect(byPrompt['a cat']).toMatchObject({
      batch_id: body.id,
      priority: 'bulk',
      input: { size: '512x512' },
    });
    expect(byPrompt['a dog'].input.size).toBe('1024x1024');
    expect(byPrompt['a cow'].priority).toBe('default');

    const read = await call(`/v1/batches/${body.id}`);
    // Read back it is the same, now with an estimate from the grant rate.
    expect(read.body).toEqual({ ...body, estimated_completed_at: expect.any(Number) });
  });

  it('accepts a JSONL file in OpenAI Batch format (edits and generations)', async () => {
    const upload = await (async () => {
      const { makeImage } = await import('@fluxq/testing');
      const form = new FormData();
      form.set(
        'file',
        new Blob([new Uint8Array(await makeImage({ width: 64, height: 64, format: 'png' }))], {
          type: 'image/png',
        }),
        'ref.png',
      );
      return (await call('/v1/uploads', { method: 'POST', body: form })).body as { id: string };
    })();
    const text = [
      line('g1', { size: '512x512' }),
      '',
      line('e1', { images: [upload.id] }, '/v1/images/edits'),
      line('e2', { images: [upload.id] }, '/v1/images/edits'),
    ].join('\n');
    const { status, body } = await postJsonl(`${text}\n`, A, { metadata: '{"k":"v"}' });
    expect(status, JSON.stringify(body)).toBe(202);
    expect(body.request_counts.total).toBe(3);
    expect(body.metadata).toEqual({ k: 'v' });
    // The upload is referenced by both edits, not copied.
    const jobs = (await call(`/v1/jobs?batch_id=${body.id}`)).body.data as Json[];
    const edits = jobs.filter((job) => job.operation === 'edit');
    expect(edits).toHaveLength(2);
    const [first, second] = await api.deps.store.getMany(edits.map((job) => job.id));
    expect((first!.input.images[0] as { key: string }).key).toBe(
      (second!.input.images[0] as { key: string }).key,
    );
  });

  const ok = (i: number) => line(`r${i}`);
  const cases: Array<{ name: string; text: () => string; lines: number[]; code: string }> = [
    {
      name: 'a malformed JSONL line',
      text: () => [ok(1), '{"custom_id": "x",', ok(3)].join('\n'),
      lines: [2],
      code: 'invalid_json',
    },
    {
      name: 'a line over the size limit',
      text: () => [ok(1), ok(2), line('big', { prompt: 'x'.repeat(MAX_LINE) })].join('\n'),
      lines: [3],
      code: 'line_too_large',
    },
    {
      name: '50,001 lines',
      text: () => Array.from({ length: 50_001 }, (_, i) => ok(i + 1)).join('\n'),
      lines: [50_001],
      code: 'too_many_requests',
    },
    {
      name: 'an unknown url',
      text: () => [ok(1), line('u', {}, '/v1/chat/completions')].join('\n'),
      lines: [2],
      code: 'invalid_url',
    },
    {
      name: 'a method other than POST',
      text: () =>
        [
          ok(1),
          JSON.stringify({ custom_id: 'm', method: 'GET', url: '/v1/images/generations', body: {} }),
        ].join('\n'),
      lines: [2],
      code: 'invalid_method',
    },
    {
      name: 'a duplicate custom_id',
      text: () => [ok(1), ok(2), ok(1)].join('\n'),
      lines: [3],
      code: 'duplicate_custom_id',
    },
    {
      name: 'a bad parameter on line 3',
      text: () => [ok(1), ok(2), line('bad', { size: 'banana' }), ok(4)].join('\n'),
      lines: [3],
      code: 'invalid_size',
    },
    {
      name: 'an edit without images',
      text: () => [ok(1), line('e', {}, '/v1/images/edits')].join('\n'),
      lines: [2],
      code: 'missing_parameter',
    },
  ];

  it.each(cases)('refuses $name with 400 invalid_batch naming the line, and stores nothing', async (c) => {
    const before = await footprint();
    const { status, body } = await postJsonl(c.text());
    expect(status, JSON.stringify(body).slice(0, 500)).toBe(400);
    expect(body.error.code).toBe('invalid_batch');
    expect(body.error.errors.map((e: { line: number }) => e.line)).toEqual(c.lines);
    expect(body.error.errors[0].code).toBe(c.code);
    expect(await footprint()).toEqual(before);
  });

  // Issue 11: an empty batch is a bad batch like any other, not a missing parameter.
  it.each([
    ['an empty JSONL file', () => postJsonl('')],
    ['a JSONL file of blank lines', () => postJsonl('\n\n  \n')],
    ['a JSON batch with no requests', () => postJson('/v1/batches', { requests: [] })],
  ])('refuses %s with 400 invalid_batch listing line 1', async (_title, send) => {
    const before = await footprint();
    const { status, body } = await send();
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_batch');
    expect(body.error.errors).toEqual([
      expect.objectContaining({ line: 1, message: expect.stringMatching(/no requests/) }),
    ]);
    expect(await footprint()).toEqual(before);
  });

  it('lists every bad line of a JSON batch (at most 100) with its custom_id', async () => {
    const before = await footprint();
    const requests = Array.from({ length: 150 }, (_, i) =>
      i % 2 === 0 ? { custom_id: `r${i}`, prompt: 'ok' } : { custom_id: `r${i}`, prompt: 'x', n: 99 },
    );
    const { status, body } = await postJson('/v1/batches', { requests });
    expect(status).toBe(400);
    expect(body.error.errors).toHaveLength(75);
    expect(body.error.errors[0]).toMatchObject({ line: 2, custom_id: 'r1' });
    expect(await footprint()).toEqual(before);
  });

  it('refuses a bad batch-level webhook_url or priority as a plain 400', async () => {
    const bad = await postJson('/v1/batches', {
      requests: [{ custom_id: 'a', prompt: 'x' }],
      priority: 'urgent',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('priority');
    const hook = await postJson('/v1/batches', {
      requests: [{ custom_id: 'a', prompt: 'x' }],
      webhook_url: 'http://169.254.169.254/x',
    });
    expect(hook.status).toBe(400);
    expect(hook.body.error.code).toBe('invalid_webhook_url');
  });
});

describe('reading batches', () => {
  it("answers 404 batch_not_found for another tenant's batch, its results and its cancel", async () => {
    const { body } = await postJson('/v1/batches', { requests: [{ custom_id: 'a', prompt: 'mine' }] });
    for (const path of [`/v1/batches/${body.id}`, `/v1/batches/${body.id}/results`]) {
      const other = await call(path, { headers: B });
      expect(other.status).toBe(404);
      expect(other.body.error.code).toBe('batch_not_found');
    }
    const cancel = await call(`/v1/batches/${body.id}/cancel`, { method: 'POST', headers: B });
    expect(cancel.status).toBe(404);
    expect((await call('/v1/batches/batch_nope')).status).toBe(404);
    expect((await call('/v1/batches', { headers: B })).body.data).toEqual([]);
  });

  it('lists batches newest first in cursor pages', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await postJson('/v1/batches', { requests: [{ custom_id: 'a', prompt: `p${i}` }] }, B);
      created.unshift(body.id);
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const { body } = await call(`/v1/batches?limit=2${after ? `&after=${after}` : ''}`, { headers: B });
      seen.push(...body.data.map((b: { id: string }) => b.id));
      after = body.next_cursor;
      expect(body.has_more).toBe(after !== null);
      if (!after) break;
    }
    expect(seen).toEqual(created);
    expect((await call('/v1/batches?limit=0', { headers: B })).status).toBe(400);
  });

  it('cancels a queued batch: every job canceled and out of the queue, results list them', async () => {
    const { body } = await postJson('/v1/batches', {
      requests: Array.from({ length: 20 }, (_, i) => ({ custom_id: `c${i}`, prompt: 'x' })),
    });
    const answer = await call(`/v1/batches/${body.id}/cancel`, { method: 'POST' });
    expect(answer.status).toBe(200);
    expect(['cancelling', 'cancelled']).toContain(answer.body.status);
    const cancel = { body: await waitForBatch(body.id, 'cancelled') };
    expect(cancel.body).toMatchObject({
      status: 'cancelled',
      request_counts: { total: 20, succeeded: 0, failed: 0, canceled: 20 },
    });
    expect(cancel.body.completed_at).toEqual(expect.any(Number));
    const jobs = (await call(`/v1/jobs?batch_id=${body.id}&limit=100`)).body.data as Json[];
    expect(jobs.every((job) => job.status === 'canceled')).toBe(true);
    for (const job of jobs) expect(await api.deps.queue.getJob(job.id)).toBeUndefined();
    const results = await fetch(`${api.url}/v1/batches/${body.id}/results`, { headers: A });
    expect(results.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await results.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id)).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    expect(lines[0]).toMatchObject({ status: 'canceled', output: null, error: { code: 'canceled' } });
    // Cancelling again changes nothing.
    expect(
      (await call(`/v1/batches/${body.id}/cancel`, { method: 'POST' })).body.request_counts.canceled,
    ).toBe(20);
  });

  // Issue 11: the answer comes at once; the cancel runs in the background, in bounded time.
  it('answers a 50,000-job batch cancel at once with cancelling, then cancels every job', async () => {
    const total = 50_000;
    const queuedBefore = await api.client.zcard('{fluxq}:tenant-queued:tenantB');
    const text = Array.from({ length: total }, (_, i) => line(`big${i}`)).join('\n');
    const accepted = await postJsonl(text, B);
    expect(accepted.status).toBe(202);
    const answer = await call(`/v1/batches/${accepted.body.id}/cancel`, { method: 'POST', headers: B });
    expect(answer.status).toBe(200);
    // Answered before the work: the jobs are cancelled in the background, in chunks.
    expect(answer.body.status).toBe('cancelling');

    const done = await waitForBatch(accepted.body.id, 'cancelled', B, 120_000);
    expect(done.request_counts).toEqual({ total, succeeded: 0, failed: 0, canceled: total });
    // Nothing is left queued: not in the tenant's queued index, not in BullMQ, no job record.
    // (BullMQ is checked by job id: other tenants' jobs keep moving into it meanwhile.)
    expect(await api.client.zcard('{fluxq}:tenant-queued:tenantB')).toBe(queuedBefore);
    const lines = await api.deps.batches.lines(accepted.body.id, 0, total);
    const batchJobIds = new Set(lines.map((l) => l.jobId));
    // A dispatcher that added a job as it was being canceled takes it out again just after.
    await waitFor(
      async () => {
        const inBullMq = await api.deps.queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1);
        return inBullMq.every((job) => !batchJobIds.has(job.id!));
      },
      { timeoutMs: 5_000, message: "the batch's canceled jobs to leave BullMQ" },
    );
    const statuses = new Set<string | undefined>();
    for (let start = 0; start < total; start += 5_000) {
      const chunk = lines.slice(start, start + 5_000).map((l) => l.jobId);
      for (const status of await api.deps.store.statuses(chunk)) statuses.add(status);
    }
    expect([...statuses]).toEqual(['canceled']);
    expect(await api.deps.batches.cancelPending(10)).toEqual([]);
  });

  it('finishes a cancel whose process died after answering (the sweep takes it up)', async () => {
    const { body } = await postJson(
      '/v1/batches',
      { requests: Array.from({ length: 30 }, (_, i) => ({ custom_id: `s${i}`, prompt: 'x' })) },
      B,
    );
    // What a process that answered the cancel and died at once leaves behind.
    expect((await api.deps.batches.markCancelling(body.id)).status).toBe('cancelling');
    expect(await api.deps.batches.cancelPending(10)).toEqual([body.id]);
    await api.deps.batchCanceller.sweep();
    const done = await waitForBatch(body.id, 'cancelled', B);
    expect(done.request_counts).toMatchObject({ total: 30, canceled: 30 });
    expect(await api.deps.batches.cancelPending(10)).toEqual([]);
  });
});

async function waitForBatch(id: string, status: string, headers = A, timeoutMs = 10_000): Promise<Json> {
  return waitFor(
    async () => {
      const { body } = await call(`/v1/batches/${id}`, { headers });
      return body.status === status ? body : undefined;
    },
    { timeoutMs, message: `batch ${id} to be ${status}` },
  );
}
