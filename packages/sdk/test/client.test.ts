import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../src/http.js';
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  createClient,
  FluxqAPIError,
  FluxqConnectionError,
  FluxqTimeoutError,
  InternalServerError,
  type Job,
  NotFoundError,
  PayloadTooLargeError,
  PaymentRequiredError,
  RateLimitError,
  SDK_VERSION,
  UnprocessableEntityError,
  UnsupportedMediaTypeError,
  verifyWebhook,
} from '../src/index.js';
import { envelope, job, json, scriptedServer } from './scripted-server.js';

type Server = Awaited<ReturnType<typeof scriptedServer>>;
let server: Server | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: Parameters<typeof scriptedServer>[0]) {
  server = await scriptedServer(handler);
  return server;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

describe('retries', () => {
  it('retries a create on 503 with Retry-After, sending the same Idempotency-Key every time', async () => {
    const s = await serve((_req, res, i) => {
      if (i < 2)
        json(res, 503, envelope('redis_unavailable', 'retry shortly', 'api_error'), { 'retry-after': '0' });
      else json(res, 202, job('job_1'));
    });
    const client = createClient({ baseURL: s.url, apiKey: 'sk_test' });
    const created = await client.jobs.create({ prompt: 'a lighthouse' });
    expect(created.id).toBe('job_1');
    expect(s.requests).toHaveLength(3);
    const keys = s.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^idk_[A-Za-z0-9_-]{20,}$/);
    expect(new Set(keys).size).toBe(1);
    expect(s.requests.map((r) => r.headers['x-fluxq-retry-count'])).toEqual(['0', '1', '2']);
    expect(s.requests[0]!.headers.authorization).toBe('Bearer sk_test');
    expect(s.requests[0]!.headers['x-fluxq-client']).toBe(`fluxq-sdk-ts/${SDK_VERSION}`);
    expect(s.requests[0]!.headers['user-agent']).toContain(`fluxq-sdk/${SDK_VERSION}`);
    expect(JSON.parse(s.requests[0]!.body.toString())).toEqual({ prompt: 'a lighthouse' });
  });

  it('uses the caller-given Idempotency-Key and gives up after maxRetries', async () => {
    const s = await serve((_req, res) =>
      json(res, 503, envelope('redis_unavailable', 'down', 'api_error'), { 'retry-after': '0' }),
    );
    const client = createClient({ baseURL: s.url, maxRetries: 1 });
    const err = await client.jobs.create({ prompt: 'x' }, { idempotencyKey: 'mine-1' }).catch((e) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err.status).toBe(503);
    expect(s.requests.map((r) => r.headers['idempotency-key'])).toEqual(['mine-1', 'mine-1']);
  });

  it('never retries a 400, and parses the envelope and x-request-id', async () => {
    const s = await serve((_req, res) =>
      json(res, 400, envelope('invalid_size', 'size must be WxH', 'invalid_request_error', 'size'), {
        'x-request-id': 'req_abc',
      }),
    );
    const client = createClient({ baseURL: s.url });
    const err = await client.jobs.create({ prompt: 'x', size: 'huge' }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toBeInstanceOf(FluxqAPIError);
    expect(err).toMatchObject({
      status: 400,
      kind: 'bad_request',
      code: 'invalid_size',
      type: 'invalid_request_error',
      param: 'size',
      requestId: 'req_abc',
    });
    expect(err.headers.get('x-request-id')).toBe('req_abc');
    expect(err.message).toContain('size must be WxH');
    expect(err.message).toContain('req_abc');
    expect(s.requests).toHaveLength(1);
  });

  it('honours Retry-After on 429', async () => {
    const s = await serve((_req, res, i) => {
      if (i === 0)
        json(res, 429, envelope('rate_limited', 'slow down', 'rate_limit_error'), { 'retry-after': '1' });
      else json(res, 200, job('job_2'));
    });
    const client = createClient({ baseURL: s.url });
    const started = Date.now();
    expect((await client.jobs.get('job_2')).id).toBe('job_2');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(s.requests).toHaveLength(2);
  });

  it('retries 409 idempotency_in_flight but not 422 idempotency_key_reused', async () => {
    const s = await serve((req, res) => {
      const key = req.headers['idempotency-key'];
      const tries = s.requests.filter((r) => r.headers['idempotency-key'] === key).length;
      if (key === 'k-409' && tries === 1) {
        json(res, 409, envelope('idempotency_in_flight', 'in flight', 'invalid_request_error'), {
          'retry-after': '0',
        });
      } else if (key === 'k-422') {
        json(res, 422, envelope('idempotency_key_reused', 'other body', 'invalid_request_error'));
      } else json(res, 202, job('job_3'));
    });
    const client = createClient({ baseURL: s.url });
    expect((await client.jobs.create({ prompt: 'x' }, { idempotencyKey: 'k-409' })).id).toBe('job_3');
    const err = await client.jobs.create({ prompt: 'x' }, { idempotencyKey: 'k-422' }).catch((e) => e);
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect(s.requests.map((r) => r.headers['idempotency-key'])).toEqual(['k-409', 'k-409', 'k-422']);
  });

  it('does not retry uploads, rotations, batch creates or a 5xx marked x-should-retry: false', async () => {
    const s = await serve((req, res) => {
      const headers: Record<string, string> = { 'retry-after': '0' };
      if (req.path === '/v1/images/generations') headers['x-should-retry'] = 'false';
      json(res, 502, envelope('provider_error', 'fal failed', 'api_error'), headers);
    });
    const client = createClient({ baseURL: s.url });
    await expect(client.uploads.create(PNG)).rejects.toBeInstanceOf(InternalServerError);
    await expect(client.webhooks.rotateSecret()).rejects.toBeInstanceOf(InternalServerError);
    await expect(client.images.generate({ prompt: 'x' })).rejects.toMatchObject({ code: 'provider_error' });
    await expect(
      client.batches.create({ requests: [{ custom_id: 'a', prompt: 'x' }] }),
    ).rejects.toBeInstanceOf(InternalServerError);
    expect(s.requests.map((r) => r.path)).toEqual([
      '/v1/uploads',
      '/v1/webhooks/secret/rotate',
      '/v1/images/generations',
      '/v1/batches',
    ]);
    expect(s.requests[3]!.headers['idempotency-key']).toMatch(/^idk_/);
  });

  it('maps each status to its error class', async () => {
    const cases: Array<[number, string, abstract new (...args: never[]) => FluxqAPIError]> = [
      [401, 'invalid_api_key', AuthenticationError],
      [402, 'spend_limit_reached', PaymentRequiredError],
      [404, 'job_not_found', NotFoundError],
      [409, 'job_canceled', ConflictError],
      [413, 'payload_too_large', PayloadTooLargeError],
      [415, 'unsupported_content_type', UnsupportedMediaTypeError],
      [429, 'rate_limited', RateLimitError],
      [500, 'internal_error', InternalServerError],
    ];
    const s = await serve((req, res) => {
      const [status, code] = cases[Number(req.headers['x-case'])]!;
      json(res, status, envelope(code, code, 'x'));
    });
    const client = createClient({ baseURL: s.url, maxRetries: 0 });
    for (const [index, [status, code, ErrorClass]] of cases.entries()) {
      const err = await client.jobs.get('job_x', { headers: { 'x-case': String(index) } }).catch((e) => e);
      expect(err).toBeInstanceOf(ErrorClass);
      expect(err).toMatchObject({ status, code });
    }
    expect(s.requests).toHaveLength(cases.length);
  });

  it('reads a non-JSON error body as text', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad Gateway</h1>');
    });
    const client = createClient({ baseURL: s.url, maxRetries: 0 });
    const err = await client.usage().catch((e) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ status: 502, code: null, body: '<h1>Bad Gateway</h1>' });
  });

  it('turns a refused connection into FluxqConnectionError after retrying', async () => {
    const port = await closedPort();
    let calls = 0;
    const client = createClient({
      baseURL: `http://127.0.0.1:${port}`,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const err = await client.jobs.get('job_1').catch((e) => e);
    expect(err).toBeInstanceOf(FluxqConnectionError);
    expect(err).not.toBeInstanceOf(FluxqTimeoutError);
    expect(err.message).toContain('ECONNREFUSED');
    expect(calls).toBe(3);
  });

  it('turns a request that gets no answer in time into FluxqTimeoutError', async () => {
    const s = await serve(() => {
      // never answers
    });
    const client = createClient({ baseURL: s.url, timeoutMs: 150, maxRetries: 1 });
    const started = Date.now();
    const err = await client.jobs.get('job_1').catch((e) => e);
    expect(err).toBeInstanceOf(FluxqTimeoutError);
    expect(err).toBeInstanceOf(FluxqConnectionError);
    expect(s.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("stops at once when the caller's signal aborts", async () => {
    const s = await serve(() => {});
    const client = createClient({ baseURL: s.url });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(client.jobs.get('job_1', { signal: controller.signal })).rejects.toThrow('stop');
    expect(s.requests).toHaveLength(1);
  });

  it('reads Retry-After as seconds or an HTTP date, capped at 60 s, and backs off with jitter', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter(new Date(now + 5_000).toUTCString(), now)).toBe(5_000);
    expect(parseRetryAfter('3600', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(backoffMs(0, () => 0.999)).toBeLessThan(500);
    expect(backoffMs(10, () => 0.999)).toBeLessThan(8_000);
    expect(backoffMs(3, () => 0)).toBe(0);
  });
});

describe('pagination', () => {
  it('listAll follows next_cursor, through an empty filtered page', async () => {
    const pages: Record<string, unknown> = {
      '': { object: 'list', data: [job('job_5'), job('job_4')], has_more: true, next_cursor: 'job_4' },
      job_4: { object: 'list', data: [], has_more: true, next_cursor: 'job_3' },
      job_3: { object: 'list', data: [job('job_2'), job('job_1')], has_more: false, next_cursor: null },
    };
    const s = await serve((req, res) => json(res, 200, pages[req.query.get('after') ?? '']));
    const client = createClient({ baseURL: `${s.url}/v1/` });
    const ids: string[] = [];
    for await (const item of client.jobs.listAll({
      status: ['succeeded', 'failed'],
      batchId: 'batch_1',
      limit: 2,
    })) {
      ids.push(item.id);
    }
    expect(ids).toEqual(['job_5', 'job_4', 'job_2', 'job_1']);
    expect(s.requests.map((r) => r.query.get('after'))).toEqual([null, 'job_4', 'job_3']);
    expect(s.requests[0]!.path).toBe('/v1/jobs');
    expect(s.requests[0]!.query.get('status')).toBe('succeeded,failed');
    expect(s.requests[0]!.query.get('batch_id')).toBe('batch_1');
    expect(s.requests[0]!.query.get('limit')).toBe('2');
  });
});

describe('batches', () => {
  it('creates with an Idempotency-Key and reads, lists and cancels', async () => {
    const batch = {
      id: 'batch_1',
      object: 'batch',
      status: 'in_progress',
      request_counts: { total: 2, succeeded: 0, failed: 0, canceled: 0 },
    };
    const s = await serve((req, res) => {
      if (req.path === '/v1/batches' && req.method === 'GET') {
        json(res, 200, { object: 'list', data: [batch], has_more: false, next_cursor: null });
      } else json(res, req.method === 'POST' && req.path === '/v1/batches' ? 202 : 200, batch);
    });
    const client = createClient({ baseURL: s.url });
    const created = await client.batches.create({
      requests: [
        { custom_id: 'a', prompt: 'one' },
        { custom_id: 'b', prompt: 'two' },
      ],
      defaults: { model: 'flux.2-dev-flash' },
      metadata: { run: '1' },
    });
    expect(created.request_counts.total).toBe(2);
    expect(s.requests[0]!.headers['idempotency-key']).toMatch(/^idk_/);
    expect(JSON.parse(s.requests[0]!.body.toString()).requests).toHaveLength(2);
    expect((await client.batches.get('batch_1')).status).toBe('in_progress');
    expect((await client.batches.list()).data).toHaveLength(1);
    expect((await client.batches.cancel('batch_1')).id).toBe('batch_1');
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/batches',
      'GET /v1/batches/batch_1',
      'GET /v1/batches',
      'POST /v1/batches/batch_1/cancel',
    ]);
  });

  it('results streams JSONL lines, split anywhere across chunks, as they arrive', async () => {
    const lines = [
      {
        custom_id: 'a',
        job_id: 'job_1',
        status: 'succeeded',
        output: { images: [], seed: 1, revised_prompt: 'é' },
        error: null,
      },
      {
        custom_id: 'b',
        job_id: 'job_2',
        status: 'failed',
        output: null,
        error: { code: 'content_filtered', message: 'no' },
      },
      { custom_id: 'c☃', job_id: 'job_3', status: 'canceled', output: null, error: null },
    ];
    const bytes = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\r\n') + '\n');
    let release!: () => void;
    const firstSeen = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Split inside line 2, and inside the three-byte snowman of line 3.
    const cut1 = bytes.indexOf('"b"') + 1;
    const cut2 = bytes.indexOf(Buffer.from('☃')) + 1;
    const s = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jsonl' });
      res.write(bytes.subarray(0, cut1));
      await firstSeen; // the client must see line 1 before the rest is even sent
      res.write(bytes.subarray(cut1, cut2));
      await new Promise((r) => setTimeout(r, 20));
      res.end(bytes.subarray(cut2));
    });
    const client = createClient({ baseURL: s.url });
    const got: unknown[] = [];
    for await (const line of client.batches.results('batch_1')) {
      got.push(line);
      if (got.length === 1) release();
    }
    expect(got).toEqual(lines);
    expect(s.requests[0]!.path).toBe('/v1/batches/batch_1/results');
  });

  it('results without a trailing newline still yields the last line', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jsonl' });
      res.end(
        '{"custom_id":"a","job_id":"job_1","status":"succeeded","output":null,"error":null}\n\n{"custom_id":"b"}',
      );
    });
    const client = createClient({ baseURL: s.url });
    const ids: string[] = [];
    for await (const line of client.batches.results('batch_1')) ids.push(line.custom_id);
    expect(ids).toEqual(['a', 'b']);
  });
});

describe('jobs.wait', () => {
  it('follows the event stream to a terminal status', async () => {
    const s = await serve(async (req, res) => {
      if (req.path !== '/v1/jobs/job_1/events') return json(res, 500, {});
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write(`event: job.queued\ndata: ${JSON.stringify(job('job_1', 'queued'))}\n\n: heartbeat\n\n`);
      const running = `event: job.running\ndata: ${JSON.stringify(job('job_1', 'running'))}\n\n`;
      res.write(running.slice(0, 30));
      await new Promise((r) => setTimeout(r, 20));
      res.write(running.slice(30));
      res.end(`event: job.succeeded\ndata: ${JSON.stringify(job('job_1', 'succeeded'))}\n\n`);
    });
    const client = createClient({ baseURL: s.url });
    const statuses: string[] = [];
    const done = await client.jobs.wait('job_1', { onUpdate: (j) => statuses.push(j.status) });
    expect(done.status).toBe('succeeded');
    expect(statuses).toEqual(['queued', 'running', 'succeeded']);
    expect(s.requests.map((r) => r.path)).toEqual(['/v1/jobs/job_1/events']);
    expect(s.requests[0]!.headers.accept).toBe('text/event-stream');
  });

  it('falls back to polling when there is no event stream', async () => {
    let polls = 0;
    const s = await serve((req, res) => {
      if (req.path.endsWith('/events')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('no streams here');
      }
      polls++;
      json(
        res,
        200,
        job('job_1', polls < 3 ? 'running' : 'failed', { error: { code: 'provider_error', message: 'x' } }),
      );
    });
    const client = createClient({ baseURL: s.url });
    const done = await client.jobs.wait('job_1', { pollIntervalMs: 10 });
    expect(done.status).toBe('failed');
    expect(s.requests.map((r) => r.path)).toEqual([
      '/v1/jobs/job_1/events',
      '/v1/jobs/job_1',
      '/v1/jobs/job_1',
      '/v1/jobs/job_1',
    ]);
  });

  it('gives up with FluxqTimeoutError when the job outlasts timeoutMs, and throws a 404 at once', async () => {
    const s = await serve((req, res) => {
      if (req.path.includes('job_missing'))
        return json(res, 404, envelope('job_not_found', 'no job', 'not_found_error', 'id'));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: job.running\ndata: ${JSON.stringify(job('job_1', 'running'))}\n\n`);
    });
    const client = createClient({ baseURL: s.url });
    await expect(client.jobs.wait('job_1', { timeoutMs: 200 })).rejects.toBeInstanceOf(FluxqTimeoutError);
    await expect(client.jobs.wait('job_missing')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('images', () => {
  it('generate follows a 202 job, then replays under the same Idempotency-Key for the images', async () => {
    const images = { created: 1, data: [{ url: 'http://x/0.png', revised_prompt: 'p' }], id: 'job_1' };
    const s = await serve((req, res, i) => {
      if (req.path === '/v1/images/generations') {
        return i === 0 ? json(res, 202, job('job_1', 'running')) : json(res, 200, images);
      }
      json(res, 200, job('job_1', 'succeeded'));
    });
    const client = createClient({ baseURL: s.url, timeoutMs: 10_000 });
    expect(await client.images.generate({ prompt: 'p', size: '1024x1024' })).toEqual(images);
    const posts = s.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.headers.prefer).toBe('wait=7');
    expect(posts[1]!.headers['idempotency-key']).toBe(posts[0]!.headers['idempotency-key']);
  });

  it('edit sends references as JSON, and binary images as multipart image[] files', async () => {
    const images = { created: 1, data: [{ url: 'http://x/0.png' }], id: 'job_1' };
    const s = await serve((_req, res) => json(res, 200, images));
    const client = createClient({ baseURL: s.url });
    await client.images.edit({ prompt: 'autumn', images: ['upl_1', { image_url: 'https://e.com/a.png' }] });
    const first = s.requests[0]!;
    expect(first.headers['content-type']).toBe('application/json');
    expect(JSON.parse(first.body.toString()).images).toEqual(['upl_1', { image_url: 'https://e.com/a.png' }]);

    const file = new File([PNG], 'photo.png', { type: 'image/png' });
    await client.images.edit({ prompt: 'autumn', n: 2, metadata: { a: 'b' }, images: [PNG, file, 'upl_1'] });
    const second = s.requests[1]!;
    expect(second.headers['idempotency-key']).toMatch(/^idk_/);
    const form = await new Response(new Uint8Array(second.body), {
      headers: { 'content-type': String(second.headers['content-type']) },
    }).formData();
    expect(form.get('prompt')).toBe('autumn');
    expect(form.get('n')).toBe('2');
    expect(form.get('metadata[a]')).toBe('b');
    const parts = form.getAll('image[]');
    expect(parts).toHaveLength(3);
    const [fromBuffer, fromFile, ref] = parts as [File, File, string];
    expect(fromBuffer.name).toBe('image-0.png');
    expect(fromBuffer.type).toBe('image/png');
    expect(Buffer.from(await fromBuffer.arrayBuffer())).toEqual(PNG);
    expect(fromFile.name).toBe('photo.png');
    expect(ref).toBe('upl_1');
  });
});

describe('other resources', () => {
  it('uploads, webhooks, usage and quotes hit their routes', async () => {
    const s = await serve((req, res) => {
      const bodies: Record<string, unknown> = {
        'POST /v1/uploads': {
          id: 'upl_1',
          object: 'upload',
          width: 1,
          height: 1,
          content_type: 'image/png',
          bytes: 16,
          created_at: 1,
          expires_at: 2,
        },
        'GET /v1/webhooks/secret': {
          object: 'webhook_secret',
          secret: 'whsec_AAAA',
          previous_secret_expires_at: null,
        },
        'GET /v1/webhooks/deliveries': { object: 'list', data: [], has_more: false, next_cursor: null },
        'POST /v1/webhooks/deliveries/whd_1/resend': {
          id: 'whd_1',
          object: 'webhook_delivery',
          status: 'pending',
        },
        'GET /v1/usage': { object: 'usage', date: '2025-01-01', spent_usd: 0 },
        'POST /v1/jobs': { object: 'quote', cost: { megapixels: 1, usd: 0.008 }, exact: true },
        'POST /v1/jobs/job_1/cancel': job('job_1', 'canceled'),
      };
      json(res, 200, bodies[`${req.method} ${req.path}`]);
    });
    const client = createClient({ baseURL: s.url });
    const upload = await client.uploads.create(PNG, { filename: 'ref.png' });
    expect(upload.id).toBe('upl_1');
    const form = await new Response(new Uint8Array(s.requests[0]!.body), {
      headers: { 'content-type': String(s.requests[0]!.headers['content-type']) },
    }).formData();
    expect((form.get('file') as File).name).toBe('ref.png');
    expect(s.requests[0]!.headers['idempotency-key']).toBeUndefined();
    expect((await client.webhooks.secret()).secret).toBe('whsec_AAAA');
    await client.webhooks.deliveries.list({ jobId: 'job_1', status: 'failed' });
    expect(s.requests[2]!.query.get('job_id')).toBe('job_1');
    expect(s.requests[2]!.query.get('status')).toBe('failed');
    expect((await client.webhooks.deliveries.resend('whd_1')).id).toBe('whd_1');
    expect((await client.usage()).date).toBe('2025-01-01');
    expect((await client.jobs.quote({ prompt: 'p' })).exact).toBe(true);
    expect(s.requests.at(-1)!.query.get('dry_run')).toBe('true');
    const canceled: Job = await client.jobs.cancel('job_1');
    expect(canceled.status).toBe('canceled');
    expect(typeof verifyWebhook).toBe('function');
  });
});
