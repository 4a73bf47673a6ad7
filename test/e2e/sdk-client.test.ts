import {
  BadRequestError,
  createClient,
  FluxqAPIError,
  type FluxqClient,
  type Job,
  NotFoundError,
} from '@fluxq/sdk';
import { makeImage, waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadImage } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/** The SDK against the real API, worker and fal simulator (local open mode: no key). */
let stack: Stack;
let client: FluxqClient;

beforeAll(async () => {
  stack = await startStack();
  client = createClient({ baseURL: stack.apiUrl, timeoutMs: 30_000 });
});
afterAll(async () => {
  await stack?.close();
});

describe('@fluxq/sdk against the real stack', () => {
  const created: string[] = [];

  it('images.generate answers with a downloadable image', async () => {
    const result = await client.images.generate({ prompt: 'a lighthouse at dawn', size: '512x512', seed: 7 });
    expect(result.id).toMatch(/^job_/);
    expect(result.data).toHaveLength(1);
    const image = await downloadImage(result.data[0]!.url!);
    expect(image.metadata).toMatchObject({ width: 512, height: 512 });
    created.push(result.id);
  });

  it('jobs.create then jobs.wait follows the event stream to succeeded', async () => {
    stack.sim.setFaults([{ on: 'outcome', delayMs: 300 }]);
    try {
      const job = await client.jobs.create({
        prompt: 'a red fox',
        size: '512x512',
        metadata: { run: 'sdk' },
      });
      expect(job).toMatchObject({ object: 'job', status: 'queued', metadata: { run: 'sdk' } });
      const statuses: string[] = [];
      const done = await client.jobs.wait(job.id, {
        timeoutMs: 20_000,
        onUpdate: (j) => statuses.push(j.status),
      });
      expect(done.status).toBe('succeeded');
      expect(statuses.at(-1)).toBe('succeeded');
      expect(statuses).toContain('running');
      expect(done.output!.images[0]).toMatchObject({ width: 512, height: 512 });
      expect((await client.jobs.get(job.id)).status).toBe('succeeded');
      created.push(job.id);
    } finally {
      stack.sim.setFaults([]);
    }
  });

  it('the same Idempotency-Key gives back the same job', async () => {
    const first = await client.jobs.create({ prompt: 'once' }, { idempotencyKey: 'sdk-e2e-once' });
    const again = await client.jobs.create({ prompt: 'once' }, { idempotencyKey: 'sdk-e2e-once' });
    expect(again.id).toBe(first.id);
    const reused = await client.jobs
      .create({ prompt: 'other' }, { idempotencyKey: 'sdk-e2e-once' })
      .catch((e) => e);
    expect(reused).toBeInstanceOf(FluxqAPIError);
    expect(reused).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    created.push(first.id);
  });

  it('jobs.list pages and jobs.listAll follows the cursors', async () => {
    const page = await client.jobs.list({ limit: 1 });
    expect(page.object).toBe('list');
    expect(page.data).toHaveLength(1);
    expect(page.has_more).toBe(true);
    expect(page.next_cursor).toBeTruthy();
    const all: Job[] = [];
    for await (const job of client.jobs.listAll({ limit: 1 })) all.push(job);
    const ids = all.map((job) => job.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of created) expect(ids).toContain(id);
    const succeeded: string[] = [];
    for await (const job of client.jobs.listAll({ status: 'succeeded', limit: 2 }))
      succeeded.push(job.status);
    expect(succeeded.length).toBeGreaterThanOrEqual(2);
    expect(new Set(succeeded)).toEqual(new Set(['succeeded']));
  });

  it('jobs.cancel cancels a running job, and wait sees it end canceled', async () => {
    stack.sim.reset();
    // Every request hangs (`times: -1`): one of an earlier test's jobs still finishing must
    // not use up the fault and let this job succeed before it is canceled.
    stack.sim.setFaults([{ on: 'outcome', hang: true, times: -1 }]);
    try {
      const job = await client.jobs.create({ prompt: 'runs until canceled' });
      await waitFor(
        async () => (await client.jobs.get(job.id)).status === 'running' && stack.sim.stats().inProgress >= 1,
        { message: 'the request to run at fal' },
      );
      const canceled = await client.jobs.cancel(job.id);
      expect(canceled.status).toBe('canceled');
      const done = await client.jobs.wait(job.id, { timeoutMs: 10_000 });
      expect(done).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
    } finally {
      stack.sim.setFaults([]);
    }
  });

  it('uploads.create takes a real PNG, and images.edit uses its upl_ id', async () => {
    const png = await makeImage({ width: 640, height: 480, format: 'png', seed: 5 });
    const upload = await client.uploads.create(png, { filename: 'ref.png' });
    expect(upload).toMatchObject({ object: 'upload', width: 640, height: 480, content_type: 'image/png' });
    expect(upload.id).toMatch(/^upl_/);
    expect((await client.uploads.get(upload.id)).id).toBe(upload.id);

    const edited = await client.images.edit({
      prompt: 'make it autumn',
      images: [upload.id],
      size: '512x512',
    });
    const image = await downloadImage(edited.data[0]!.url!);
    expect(image.metadata).toMatchObject({ width: 512, height: 512 });
    const job = await client.jobs.get(edited.id);
    expect(job).toMatchObject({ operation: 'edit', status: 'succeeded' });
  });

  it('images.edit sends a Buffer as a multipart file', async () => {
    const jpeg = await makeImage({ width: 512, height: 512, format: 'jpeg', seed: 9 });
    const edited = await client.images.edit({ prompt: 'in winter', images: [jpeg], size: '512x512' });
    expect(edited.data[0]!.url).toMatch(/^http/);
    expect((await client.jobs.get(edited.id)).input.images).toHaveLength(1);
  });

  it('webhooks.secret gives the whsec_ secret; usage reports the day', async () => {
    const secret = await client.webhooks.secret();
    expect(secret.secret).toMatch(/^whsec_/);
    const deliveries = await client.webhooks.deliveries.list();
    expect(deliveries.object).toBe('list');
    const usage = await client.usage();
    expect(usage.object).toBe('usage');
    expect(usage.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(typeof usage.spent_usd).toBe('number');
  });

  it('a 4xx surfaces as FluxqAPIError with code, param and request id', async () => {
    const err = await client.jobs.create({ prompt: 'x', size: '100x100' }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_size');
    expect(err.param).toBe('size');
    expect(err.requestId).toMatch(/^req_/);

    const missing = await client.jobs.get('job_doesnotexist').catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.code).toBe('job_not_found');
  });

  it('batches, when the API has them', async (ctx) => {
    const probe = await fetch(`${stack.apiUrl}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await probe.body?.cancel();
    if (probe.status === 404) return ctx.skip('POST /v1/batches is not served yet');
    const batch = await client.batches.create({
      requests: [
        { custom_id: 'one', prompt: 'a', size: '512x512' },
        { custom_id: 'two', prompt: 'b', size: '512x512' },
      ],
    });
    expect(batch.id).toBeTruthy();
    const done = await waitFor(
      async () => {
        const current = await client.batches.get(batch.id);
        return current.status === 'completed' ? current : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'the batch to complete' },
    );
    expect(done.request_counts.total).toBe(2);
    const ids: string[] = [];
    for await (const line of client.batches.results(batch.id)) ids.push(line.custom_id);
    expect(ids.sort()).toEqual(['one', 'two']);
  });
});
