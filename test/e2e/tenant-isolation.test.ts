import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { makeImage, startWebhookReceiver, type WebhookReceiver, waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, type Job, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * Tenant isolation on the real stack (API and worker processes, fal simulator): tenant A
 * (acme) owns a finished job with an output and a delivered webhook, a job still running,
 * and an upload. Tenant B (globex) then tries to get, list, cancel, follow and download
 * them, use them in its own requests, and read A's deliveries. Everything that names A's
 * data answers as if it did not exist (404, or for an upload used in a request the same
 * 400 as an unknown id), and A's data is unchanged afterwards.
 *
 * Batches do not exist yet; their rows (get, list, cancel a batch, its results) belong here
 * once they do.
 *
 * File URLs are the one exception to "404": `/v1/files/*` takes no API key at all. A file
 * URL is a capability (an HMAC over the storage key and expiry), handed to whoever may read
 * the file, e.g. to put in an <img>. Without a signature made for exactly that key the
 * answer is 403 `invalid_signature`, and the signature is checked before the file is
 * looked up: the 403 is the same whether the key exists or not, so it reveals nothing.
 */

const A_KEY = 'fq_acme_isolation_key';
const B_KEY = 'fq_globex_isolation_key';
const A = { authorization: `Bearer ${A_KEY}` };
const B = { authorization: `Bearer ${B_KEY}` };
const STATUSES = 'queued,running,succeeded,failed,canceled';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
type Json = any;

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

describe('tenant isolation, end to end', () => {
  let stack: Stack;
  let hooks: WebhookReceiver;

  /** A's things, created in `beforeAll`. */
  const a = {
    job: undefined as unknown as Job,
    uploadId: '',
    deliveryId: '',
    secret: '',
    /** The output's signed URL as A was given it. */
    outputUrl: new URL('http://invalid'),
    before: {} as { job: Json; upload: Json; delivery: Json },
  };
  /** B's own finished job: a valid signature, for another key. */
  let bOutputUrl = new URL('http://invalid');

  const call = async (
    who: Record<string, string>,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { ...who, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const isJson = response.headers.get('content-type')?.startsWith('application/json');
    const parsed = isJson ? await response.json() : await response.arrayBuffer();
    return { status: response.status, headers: response.headers, body: parsed };
  };

  /** A GET of a file URL: no API key (file URLs take none). */
  const download = async (path: string): Promise<Answer> => call({}, 'GET', path);

  /** Signed URLs carry a fresh expiry on every read: compare without their query. */
  const unsigned = (value: Json): Json =>
    JSON.parse(JSON.stringify(value).replace(/\?expires=\d+&sig=[A-Za-z0-9_-]+/g, '?<signed>'));

  const snapshot = async () => ({
    job: unsigned((await call(A, 'GET', `/v1/jobs/${a.job.id}`)).body),
    upload: (await call(A, 'GET', `/v1/uploads/${a.uploadId}`)).body,
    delivery: (await call(A, 'GET', `/v1/webhooks/deliveries/${a.deliveryId}`)).body,
  });

  const listIds = async (who: Record<string, string>, query = '') =>
    ((await call(who, 'GET', `/v1/jobs${query}`)).body.data as Array<{ id: string }>).map((job) => job.id);

  const generation = { model: 'flux.2-dev-turbo', prompt: 'a lighthouse at dusk' };

  beforeAll(async () => {
    stack = await startStack({
      apiEnv: { API_KEYS: `${A_KEY}:acme,${B_KEY}:globex` },
      workerEnv: { WEBHOOK_SCHEDULE_SCALE: '0.0002', HEDGE_PRIORITIES: 'none' },
    });
    hooks = await startWebhookReceiver();

    // A's upload: a real PNG.
    const form = new FormData();
    const png = await makeImage({ width: 320, height: 200, format: 'png' });
    form.append('file', new Blob([png], { type: 'image/png' }), 'reference.png');
    const uploaded = await fetch(`${stack.apiUrl}/v1/uploads`, { method: 'POST', headers: A, body: form });
    expect(uploaded.status).toBe(200);
    a.uploadId = ((await uploaded.json()) as { id: string }).id;

    // A's finished generation, with a webhook that is delivered.
    const submitted = await submitJob(
      stack.apiUrl,
      { ...generation, webhook_url: `${hooks.url}/acme`, metadata: { owner: 'acme' } },
      A,
    );
    a.job = await waitForTerminal(stack.apiUrl, submitted.id, 30_000, A);
    expect(a.job.status).toBe('succeeded');
    a.outputUrl = new URL(a.job.output!.images[0]!.url);
    await hooks.waitForRequests(1);
    const [delivery] = await waitFor(async () => {
      const log = (await call(A, 'GET', `/v1/webhooks/deliveries?job_id=${a.job.id}`)).body.data as Json[];
      return log[0]?.status === 'delivered' && log;
    });
    a.deliveryId = delivery.id;
    a.secret = (await call(A, 'GET', '/v1/webhooks/secret')).body.secret;

    // B's own finished job.
    const own = await waitForTerminal(
      stack.apiUrl,
      (await submitJob(stack.apiUrl, generation, B)).id,
      30_000,
      B,
    );
    expect(own.status).toBe('succeeded');
    bOutputUrl = new URL(own.output!.images[0]!.url);

    a.before = await snapshot();
    // A sees all of it: the 404s below are about who asks, not about missing data.
    expect(a.before.job).toMatchObject({ id: a.job.id, status: 'succeeded' });
    expect(a.before.upload).toMatchObject({ id: a.uploadId, object: 'upload' });
    expect(a.before.delivery).toMatchObject({ id: a.deliveryId, status: 'delivered', job_id: a.job.id });
    expect((await download(`${a.outputUrl.pathname}${a.outputUrl.search}`)).status).toBe(200);
  });
  afterAll(async () => {
    await hooks?.stop();
    await stack?.close();
  });

  type Row = [string, () => Promise<Answer>, number, string];
  const rows: Row[] = [
    ['get A’s job', () => call(B, 'GET', `/v1/jobs/${a.job.id}`), 404, 'job_not_found'],
    ['cancel A’s finished job', () => call(B, 'POST', `/v1/jobs/${a.job.id}/cancel`), 404, 'job_not_found'],
    ['follow A’s job’s events', () => call(B, 'GET', `/v1/jobs/${a.job.id}/events`), 404, 'job_not_found'],
    ['get A’s upload', () => call(B, 'GET', `/v1/uploads/${a.uploadId}`), 404, 'upload_not_found'],
    [
      'create a job from A’s upload',
      () => call(B, 'POST', '/v1/jobs', { ...generation, images: [a.uploadId] }),
      400,
      'invalid_image',
    ],
    [
      'quote a job from A’s upload (a quote would tell its size)',
      () => call(B, 'POST', '/v1/jobs?dry_run=true', { ...generation, images: [a.uploadId] }),
      400,
      'invalid_image',
    ],
    [
      'edit A’s upload through the Images API',
      () =>
        call(
          B,
          'POST',
          '/v1/images/edits',
          { prompt: 'x', images: [a.uploadId] },
          { prefer: 'respond-async' },
        ),
      400,
      'invalid_image',
    ],
    [
      'get A’s delivery',
      () => call(B, 'GET', `/v1/webhooks/deliveries/${a.deliveryId}`),
      404,
      'webhook_delivery_not_found',
    ],
    [
      'resend A’s delivery',
      () => call(B, 'POST', `/v1/webhooks/deliveries/${a.deliveryId}/resend`),
      404,
      'webhook_delivery_not_found',
    ],
    [
      'download A’s output with B’s own valid signature (made for another key)',
      () => download(`${a.outputUrl.pathname}${bOutputUrl.search}`),
      403,
      'invalid_signature',
    ],
    [
      'download A’s output with a tampered signature',
      () => {
        const url = new URL(a.outputUrl);
        const sig = url.searchParams.get('sig')!;
        url.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
        return download(`${url.pathname}${url.search}`);
      },
      403,
      'invalid_signature',
    ],
    [
      'download A’s output with A’s signature and a later expiry',
      () => {
        const url = new URL(a.outputUrl);
        url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3_600));
        return download(`${url.pathname}${url.search}`);
      },
      403,
      'invalid_signature',
    ],
    [
      'download A’s output without a signature',
      () => download(a.outputUrl.pathname),
      403,
      'invalid_signature',
    ],
    [
      'download A’s output with B’s API key instead of a signature',
      () => call(B, 'GET', a.outputUrl.pathname),
      403,
      'invalid_signature',
    ],
    [
      'download a key that does not exist (the same 403: no existence oracle)',
      () => download(`${a.outputUrl.pathname.replace(/\/[^/]+$/, '/7.png')}${bOutputUrl.search}`),
      403,
      'invalid_signature',
    ],
    [
      'reach A’s output from B’s folder through an encoded path traversal',
      () => {
        // /v1/files/outputs/globex/..%2F..%2Foutputs%2Facme%2F<job>%2F0.png
        const aKey = a.outputUrl.pathname.replace('/v1/files/', '');
        const traversal = encodeURIComponent(`../../${aKey}`);
        return download(`/v1/files/outputs/globex/${traversal}${bOutputUrl.search}`);
      },
      400,
      'invalid_request',
    ],
    [
      'reach A’s output through a literal ../ path (sent unnormalized)',
      () => rawGet(`/v1/files/outputs/globex/../../${a.outputUrl.pathname.replace('/v1/files/', '')}`),
      400,
      'invalid_request',
    ],
  ];

  /** A GET whose path goes out byte for byte (fetch would resolve the `..` segments first). */
  const rawGet = (path: string) =>
    new Promise<Answer>((resolve, reject) => {
      const { hostname, port } = new URL(stack.apiUrl);
      const req = httpRequest({ hostname, port, path, method: 'GET' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: new Headers(),
            body: text ? JSON.parse(text) : undefined,
          });
        });
      });
      req.on('error', reject);
      req.end();
    });

  const table = rows.map(([what, attempt, status, code]) => ({ what, attempt, status, code }));
  it.each(table)('B tries to $what → $status $code', async ({ attempt, status, code }) => {
    const answer = await attempt();
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
  });

  it('B lists none of A’s jobs, whatever the filter or cursor', async () => {
    const aIds = await listIds(A, `?status=${STATUSES}&limit=100`);
    expect(aIds).toContain(a.job.id);
    for (const query of [
      '',
      '?limit=100',
      `?status=${STATUSES}`,
      '?status=succeeded',
      `?after=${a.job.id}`,
    ]) {
      const bIds = await listIds(B, query);
      expect(bIds.filter((id) => aIds.includes(id))).toEqual([]);
    }
    // B's list is not empty: it has its own job.
    expect((await listIds(B)).length).toBeGreaterThan(0);
  });

  it('B lists none of A’s deliveries, also when asking for A’s job', async () => {
    expect((await call(A, 'GET', `/v1/webhooks/deliveries?job_id=${a.job.id}`)).body.data).toHaveLength(1);
    const byJob = await call(B, 'GET', `/v1/webhooks/deliveries?job_id=${a.job.id}`);
    expect(byJob.status).toBe(200);
    expect(byJob.body).toMatchObject({ object: 'list', data: [], has_more: false });
    for (const query of ['', '?status=delivered', `?after=${a.deliveryId}`]) {
      const ids = ((await call(B, 'GET', `/v1/webhooks/deliveries${query}`)).body.data as Json[]).map(
        (d) => d.id,
      );
      expect(ids).not.toContain(a.deliveryId);
    }
    // Recovering B's failed deliveries never touches A's.
    const recovered = await call(B, 'POST', '/v1/webhooks/recover', { since: 0 });
    expect(recovered).toMatchObject({ status: 202, body: { resent: 0 } });
  });

  it('B’s request with A’s upload id fails exactly as with an id that never existed', async () => {
    const unknownId = `upl_${randomBytes(12).toString('hex')}`;
    const withA = await call(B, 'POST', '/v1/jobs', { ...generation, images: [a.uploadId] });
    const withUnknown = await call(B, 'POST', '/v1/jobs', { ...generation, images: [unknownId] });
    expect(withA.status).toBe(withUnknown.status);
    expect(withA.body.error.code).toBe(withUnknown.body.error.code);
    expect(withA.body.error.param).toBe(withUnknown.body.error.param);
    expect(withA.body.error.message.replace(a.uploadId, '<id>')).toBe(
      withUnknown.body.error.message.replace(unknownId, '<id>'),
    );
  });

  it('the same Idempotency-Key is each tenant’s own: B gets a job of its own, A replays its own', async () => {
    const key = { 'idempotency-key': 'order-42' };
    const body = { ...generation, prompt: 'idempotent kite' };
    const first = await call(A, 'POST', '/v1/jobs', body, key);
    expect(first.status).toBe(202);
    const fromB = await call(B, 'POST', '/v1/jobs', body, key);
    expect(fromB.status).toBe(202);
    expect(fromB.body.id).not.toBe(first.body.id);
    expect(fromB.headers.get('idempotent-replayed')).toBeNull();
    // Each key now stands for its tenant's job.
    const replayA = await call(A, 'POST', '/v1/jobs', body, key);
    const replayB = await call(B, 'POST', '/v1/jobs', body, key);
    expect([replayA.body.id, replayA.headers.get('idempotent-replayed')]).toEqual([first.body.id, 'true']);
    expect([replayB.body.id, replayB.headers.get('idempotent-replayed')]).toEqual([fromB.body.id, 'true']);
    // B's job is B's: A cannot see it.
    expect((await call(A, 'GET', `/v1/jobs/${fromB.body.id}`)).status).toBe(404);
    // Let both finish before the next test arms a fault in the simulator.
    await waitForTerminal(stack.apiUrl, first.body.id, 30_000, A);
    await waitForTerminal(stack.apiUrl, fromB.body.id, 30_000, B);
  });

  it('B gets its own webhook secret, and rotating it leaves A’s alone', async () => {
    const secretB = (await call(B, 'GET', '/v1/webhooks/secret')).body.secret;
    expect(secretB).toMatch(/^whsec_/);
    expect(secretB).not.toBe(a.secret);
    const rotated = await call(B, 'POST', '/v1/webhooks/secret/rotate');
    expect(rotated.status).toBe(200);
    expect((await call(A, 'GET', '/v1/webhooks/secret')).body).toMatchObject({
      secret: a.secret,
      previous_secret_expires_at: null,
    });
  });

  it('B cannot cancel, read, follow or list A’s running job, which runs on to succeeded', async () => {
    stack.sim.reset();
    // The fal request of A's next job runs 5 s: long enough for B to try everything.
    stack.sim.setFaults([{ on: 'outcome', delayMs: 5_000 }]);
    const held = await submitJob(stack.apiUrl, { ...generation, prompt: 'a slow lighthouse' }, A);
    await waitFor(async () => (await getJob(stack.apiUrl, held.id, A)).status === 'running', {
      timeoutMs: 10_000,
      message: 'A’s job to start',
    });

    const cancel = await call(B, 'POST', `/v1/jobs/${held.id}/cancel`);
    expect(cancel.status).toBe(404);
    expect(cancel.body.error.code).toBe('job_not_found');
    expect((await call(B, 'GET', `/v1/jobs/${held.id}`)).status).toBe(404);
    expect((await call(B, 'GET', `/v1/jobs/${held.id}/events`)).status).toBe(404);
    expect(await listIds(A, '?status=running')).toContain(held.id);
    expect(await listIds(B, '?status=queued,running')).not.toContain(held.id);

    expect((await getJob(stack.apiUrl, held.id, A)).status).toBe('running');
    const finished = await waitForTerminal(stack.apiUrl, held.id, 30_000, A);
    expect(finished.status).toBe('succeeded');
    // Nobody cancelled it at fal either.
    expect(stack.sim.stats().cancels).toBe(0);
  });

  it('leaves A’s job, upload, delivery and secret exactly as they were', async () => {
    const after = await snapshot();
    expect(after).toEqual(a.before);
    expect(after.delivery.resends).toBe(0);
    expect((await call(A, 'GET', '/v1/webhooks/secret')).body.secret).toBe(a.secret);
    // A's own signed URL still works: the capability was never revoked or altered.
    const fresh = new URL((await getJob(stack.apiUrl, a.job.id, A)).output!.images[0]!.url);
    expect((await download(`${fresh.pathname}${fresh.search}`)).status).toBe(200);
    // The receiver heard only A's one event.
    expect(hooks.requests).toHaveLength(1);
  });
});
