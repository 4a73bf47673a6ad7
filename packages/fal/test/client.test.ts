import { describe, expect, it } from 'vitest';
import {
  createFalQueueClient,
  FalContentFilteredError,
  FalTransientError,
  FalValidationError,
  parseEndpointId,
} from '../src/index.js';
import { FAST_RETRY, IMAGE_OUTPUT, SUBMIT_OK, TEST_KEY, useFalServer } from './fal-server.js';

const serve = useFalServer();

describe('parseEndpointId', () => {
  it.each([
    ['fal-ai/flux-2/turbo/edit', { owner: 'fal-ai', app: 'flux-2', path: 'turbo/edit' }],
    ['fal-ai/flux-2', { owner: 'fal-ai', app: 'flux-2' }],
  ])('splits %s into owner/app/path', (id, expected) => {
    expect(parseEndpointId(id)).toEqual(expected);
  });

  it.each(['flux-2', 'fal-ai//edit', 'fal-ai/../x', 'fal-ai/flux-2?x=1', 'fal-ai/flux 2'])(
    'refuses %s',
    (id) => {
      expect(() => parseEndpointId(id)).toThrow(TypeError);
    },
  );
});

describe('when the endpoint has a subpath (/edit)', () => {
  it('submits to the full id and polls, fetches and cancels under owner/app only', async () => {
    const s = await serve((req) => {
      if (req.method === 'POST') return SUBMIT_OK('abc');
      if (req.url.includes('/status')) return { status: 200, body: { status: 'COMPLETED' } };
      if (req.url.endsWith('/cancel')) return { status: 400, body: { status: 'ALREADY_COMPLETED' } };
      return { status: 200, body: IMAGE_OUTPUT };
    });
    const client = createFalQueueClient({ baseUrl: s.url });
    const id = 'fal-ai/flux-2/turbo/edit';
    const submitted = await client.submit(id, { prompt: 'p', image_urls: ['https://x/a.png'] });
    await client.status(id, submitted.requestId);
    await client.result(id, submitted.requestId);
    await client.cancel(id, submitted.requestId);

    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /fal-ai/flux-2/turbo/edit',
      'GET /fal-ai/flux-2/requests/abc/status?logs=0',
      'GET /fal-ai/flux-2/requests/abc',
      'PUT /fal-ai/flux-2/requests/abc/cancel',
    ]);
    expect(JSON.parse(s.requests[0]!.body.toString())).toEqual({
      prompt: 'p',
      image_urls: ['https://x/a.png'],
    });
  });
});

describe('submit', () => {
  it('returns the queue envelope in camelCase', async () => {
    const s = await serve(() => SUBMIT_OK('r-7'));
    const out = await createFalQueueClient({ baseUrl: s.url }).submit('fal-ai/flux-2/flash', {});
    expect(out).toEqual({
      requestId: 'r-7',
      statusUrl: 'https://queue.fal.run/fal-ai/flux-2/requests/r-7/status',
      responseUrl: 'https://queue.fal.run/fal-ai/flux-2/requests/r-7',
      cancelUrl: 'https://queue.fal.run/fal-ai/flux-2/requests/r-7/cancel',
      queuePosition: 3,
    });
  });

  it('is not retried on 503 (the server sees exactly one POST)', async () => {
    const s = await serve(() => ({ status: 503, body: { detail: 'busy' } }));
    const client = createFalQueueClient({ baseUrl: s.url, readRetries: 5, ...FAST_RETRY });
    await expect(client.submit('fal-ai/flux-2/turbo', {})).rejects.toBeInstanceOf(FalTransientError);
    expect(s.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('sends webhook, start timeout, priority and caller headers, ours winning', async () => {
    const s = await serve(() => SUBMIT_OK());
    await createFalQueueClient({ baseUrl: s.url, key: TEST_KEY }).submit(
      'fal-ai/flux-2/turbo',
      {},
      {
        webhookUrl: 'https://hooks.example/fal?x=1&y=2',
        startTimeoutS: 45,
        priority: 'low',
        headers: { 'X-Fal-Store-IO': '0', Authorization: 'Key stolen' },
      },
    );
    const req = s.requests[0]!;
    expect(req.url).toBe(
      `/fal-ai/flux-2/turbo?fal_webhook=${encodeURIComponent('https://hooks.example/fal?x=1&y=2')}`,
    );
    expect(req.headers['x-fal-request-timeout']).toBe('45');
    expect(req.headers['x-fal-queue-priority']).toBe('low');
    expect(req.headers['x-fal-store-io']).toBe('0');
    expect(req.headers.authorization).toBe(`Key ${TEST_KEY}`);
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('omits optional headers when their options are unset', async () => {
    const s = await serve(() => SUBMIT_OK());
    await createFalQueueClient({ baseUrl: s.url }).submit('fal-ai/flux-2/turbo', {});
    const headers = s.requests[0]!.headers;
    expect(headers['x-fal-request-timeout']).toBeUndefined();
    expect(headers['x-fal-queue-priority']).toBeUndefined();
    expect(headers.authorization).toBeUndefined();
  });

  it('refuses a start timeout of 1 s or less before calling fal', async () => {
    const s = await serve(() => SUBMIT_OK());
    const client = createFalQueueClient({ baseUrl: s.url });
    await expect(client.submit('fal-ai/flux-2/turbo', {}, { startTimeoutS: 1 })).rejects.toThrow(RangeError);
    expect(s.requests).toHaveLength(0);
  });
});

describe('Authorization header', () => {
  it.each([
    ['sent as "Key <key>" when a key is set', TEST_KEY, `Key ${TEST_KEY}`],
    ['absent when no key is set', undefined, undefined],
  ])('is %s', async (_label, key, expected) => {
    const s = await serve(() => ({ status: 202, body: { status: 'IN_QUEUE', queue_position: 0 } }));
    await createFalQueueClient({ baseUrl: s.url, key }).status('fal-ai/flux-2', 'r');
    expect(s.requests[0]!.headers.authorization).toBe(expected);
  });
});

describe('result', () => {
  it('returns typed output and the request id from x-fal-request-id', async () => {
    const s = await serve(() => ({
      status: 200,
      headers: { 'x-fal-request-id': 'r-header' },
      body: IMAGE_OUTPUT,
    }));
    const out = await createFalQueueClient({ baseUrl: s.url }).result('fal-ai/flux-2/turbo', 'r');
    expect(out).toEqual({ requestId: 'r-header', data: IMAGE_OUTPUT });
  });

  it('throws FalContentFilteredError naming the flagged indices', async () => {
    const images = [0, 1, 2].map((i) => ({ url: `https://v3.fal.media/${i}.png` }));
    const s = await serve(() => ({
      status: 200,
      body: { images, seed: 1, has_nsfw_concepts: [false, true, true] },
    }));
    const err = await createFalQueueClient({ baseUrl: s.url })
      .result('fal-ai/flux-2/turbo', 'r')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FalContentFilteredError);
    expect(err).toMatchObject({ code: 'FAL_ERR_CONTENT_FILTERED', flaggedIndices: [1, 2], requestId: 'r' });
  });

  it('surfaces the model error of a failed request', async () => {
    const s = await serve(() => ({
      status: 422,
      body: { detail: [{ loc: ['body', 'prompt'], msg: 'x', type: 't' }] },
    }));
    await expect(
      createFalQueueClient({ baseUrl: s.url }).result('fal-ai/flux-2', 'r'),
    ).rejects.toBeInstanceOf(FalValidationError);
  });

  it.each([
    ['no images', { seed: 1 }],
    ['an image without url', { images: [{}], seed: 1 }],
    ['no seed', { images: [{ url: 'u' }] }],
  ])('throws FalProtocolError for output with %s', async (_label, body) => {
    const s = await serve(() => ({ status: 200, body }));
    await expect(createFalQueueClient({ baseUrl: s.url }).result('fal-ai/flux-2', 'r')).rejects.toMatchObject(
      {
        code: 'FAL_ERR_PROTOCOL',
      },
    );
  });
});

describe('cancel', () => {
  it.each([
    [{ status: 202, body: { status: 'CANCELLATION_REQUESTED' } }, 'requested'],
    [{ status: 400, body: { status: 'ALREADY_COMPLETED' } }, 'already_completed'],
    [{ status: 404, body: { status: 'NOT_FOUND' } }, 'not_found'],
  ])('maps %j to %s', async (reply, expected) => {
    const s = await serve(() => reply);
    expect(await createFalQueueClient({ baseUrl: s.url }).cancel('fal-ai/flux-2/turbo', 'r')).toBe(expected);
  });

  it('throws on auth failure', async () => {
    const s = await serve(() => ({ status: 401, body: { detail: 'no key' } }));
    await expect(createFalQueueClient({ baseUrl: s.url }).cancel('fal-ai/flux-2', 'r')).rejects.toMatchObject(
      {
        code: 'FAL_ERR_AUTH',
        operation: 'cancel',
      },
    );
  });
});
