import { afterAll, describe, expect, it } from 'vitest';
import { createFalQueueClient, createNodeHttpFetch } from '../src/index.js';
import { IMAGE_OUTPUT, SUBMIT_OK, TEST_KEY, useFalServer } from './fal-server.js';

/**
 * The queue calls through createNodeHttpFetch (what the worker sends them with) put the same
 * requests on the wire and read the same answers as through fetch. Error classification with
 * it: errors.test.ts runs its whole table over both.
 */
const serve = useFalServer();
const queueFetch = createNodeHttpFetch();
afterAll(() => queueFetch.close());

describe('fal queue calls over createNodeHttpFetch', () => {
  it('submits, polls, fetches and cancels: the same requests, headers and answers as fetch', async () => {
    const s = await serve((req) => {
      if (req.method === 'POST') return SUBMIT_OK('abc');
      if (req.url.includes('/status')) return { status: 200, body: { status: 'COMPLETED' } };
      if (req.url.endsWith('/cancel')) return { status: 400, body: { status: 'ALREADY_COMPLETED' } };
      return { status: 200, headers: { 'x-fal-request-id': 'abc' }, body: IMAGE_OUTPUT };
    });
    const answers = async (client: ReturnType<typeof createFalQueueClient>) => {
      const id = 'fal-ai/flux-2/turbo/edit';
      const submitted = await client.submit(id, { prompt: 'p é', image_urls: ['https://x/a.png'] });
      return [
        submitted,
        await client.status(id, submitted.requestId),
        await client.result(id, submitted.requestId),
        await client.cancel(id, submitted.requestId),
      ];
    };
    const viaFetch = await answers(createFalQueueClient({ baseUrl: s.url, key: TEST_KEY }));
    const lean = await answers(createFalQueueClient({ baseUrl: s.url, key: TEST_KEY, queueFetch }));
    expect(lean).toEqual(viaFetch);

    const wire = (r: (typeof s.requests)[number]) => ({
      line: `${r.method} ${r.url}`,
      authorization: r.headers.authorization,
      contentType: r.headers['content-type'],
      accept: r.headers.accept,
      body: r.body.toString(),
    });
    expect(s.requests.slice(4).map(wire)).toEqual(s.requests.slice(0, 4).map(wire));
    expect(s.requests[4]!.headers['content-length']).toBe(String(s.requests[4]!.body.length));
  });

  it('times a hung call out and gives the caller its own abort reason', async () => {
    const s = await serve(() => ({ status: 200, hang: true }));
    const client = createFalQueueClient({
      baseUrl: s.url,
      readRetries: 0,
      timeouts: { statusMs: 100 },
      queueFetch,
    });
    await expect(client.status('fal-ai/flux-2', 'r')).rejects.toMatchObject({
      name: 'FalTransportError',
      code: 'FAL_ERR_TIMEOUT',
    });
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    const pending = client.result('fal-ai/flux-2', 'r', { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
  });

  it('asks for kept-alive connections on every call', async () => {
    const s = await serve(() => ({ status: 200, body: { status: 'IN_QUEUE', queue_position: 1 } }));
    const client = createFalQueueClient({ baseUrl: s.url, queueFetch });
    for (let i = 0; i < 20; i++) await client.status('fal-ai/flux-2', `r${i}`);
    const sockets = new Set(s.requests.map((r) => `${r.headers.connection}`));
    expect(s.requests).toHaveLength(20);
    expect(sockets).toEqual(new Set(['keep-alive']));
  });
});
