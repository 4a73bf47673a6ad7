import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFalSim, type FalSim } from '@fluxq/fal-sim';
import {
  createFalCompletionListener,
  FAL_COMPLETIONS_CHANNEL,
  type FalCompletionListener,
} from '@fluxq/queue';
import { falWebhookKey } from '@fluxq/store';
import { getFreePort, waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadApiConfig } from '../src/config.js';
import { type ApiHarness, startApi } from './api-harness.js';
import type { ErrorBody, Json } from './tenant-client.js';

/** Every message on the completions channel, in order, from a subscriber of the API's Redis. */
interface Collector {
  messages: Json[];
  /** Publishes a marker and waits for it: every publish the API made before is in `messages` by then. */
  settle(): Promise<void>;
  forRequest(requestId: string): Json[];
  close(): Promise<void>;
}

async function collectCompletions(redisUrl: string): Promise<Collector> {
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const messages: Json[] = [];
  subscriber.on('message', (_channel: string, message: string) => messages.push(JSON.parse(message)));
  await subscriber.subscribe(FAL_COMPLETIONS_CHANNEL);
  let markers = 0;
  return {
    messages,
    async settle() {
      const marker = `marker-${++markers}`;
      await publisher.publish(FAL_COMPLETIONS_CHANNEL, JSON.stringify({ requestId: marker, status: 'OK' }));
      await waitFor(() => messages.some((m) => m.requestId === marker), { message: 'the marker message' });
    },
    forRequest: (requestId) => messages.filter((m) => m.requestId === requestId),
    async close() {
      await subscriber.quit();
      await publisher.quit();
    },
  };
}

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

const postWebhook = async (apiUrl: string, delivery: Delivery) => {
  const response = await fetch(`${apiUrl}/fal/webhook`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

describe('POST /fal/webhook with the fal simulator', () => {
  let sim: FalSim;
  let api: ApiHarness;
  let collector: Collector;
  let listenerConnection: Redis;
  let listener: FalCompletionListener;
  /** Webhook POSTs the sim made, with the API's answer when they reached it. */
  let deliveries: Array<Delivery & { status?: number }>;
  /** Captured deliveries are answered 200 by the test instead of reaching the API. */
  let captureOnly: boolean;
  /** Shifts the sim's clock, to make it sign stale timestamps. */
  let simClockSkewMs: number;

  const simFetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (init?.method !== 'POST' || !url.endsWith('/fal/webhook')) return fetch(input, init);
    const delivery: Delivery & { status?: number } = {
      headers: { ...(init.headers as Record<string, string>) },
      body: String(init.body),
    };
    deliveries.push(delivery);
    if (captureOnly) return new Response(null, { status: 200 });
    const response = await fetch(input, init);
    delivery.status = response.status;
    return response;
  };

  /** Submits to the sim with `?fal_webhook=<api>/fal/webhook`; resolves with fal's request id. */
  const submit = async (): Promise<string> => {
    const hook = encodeURIComponent(`${api.url}/fal/webhook`);
    const response = await fetch(`${sim.url}/fal-ai/flux-2/turbo?fal_webhook=${hook}`, {
      method: 'POST',
      headers: { authorization: 'Key test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x' }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { request_id: string }).request_id;
  };

  /** Lets the sim run a request and deliver its webhook to the test alone. */
  const captureDelivery = async (): Promise<{ requestId: string; delivery: Delivery }> => {
    captureOnly = true;
    const requestId = await submit();
    const delivery = await waitFor(() =>
      deliveries.find((d) => d.headers['X-Fal-Webhook-Request-Id'] === requestId),
    );
    return { requestId, delivery };
  };

  beforeAll(async () => {
    sim = await createFalSim({
      timeScale: 0,
      failureRate: 0,
      fetch: simFetch,
      now: () => Date.now() + simClockSkewMs,
    });
    // API keys on: the webhook must not need one.
    api = await startApi({ FAL_JWKS_URL: `${sim.url}/.well-known/jwks.json`, API_KEYS: 'fq_k:tenant' });
    collector = await collectCompletions(api.redis.url);
    listenerConnection = new Redis(api.redis.url, { maxRetriesPerRequest: null });
    listener = createFalCompletionListener(listenerConnection);
    await listener.ready();
  });
  afterAll(async () => {
    await listener?.close();
    await listenerConnection?.quit();
    await collector?.close();
    await api?.close();
    await sim?.close();
  });
  beforeEach(() => {
    deliveries = [];
    captureOnly = false;
    simClockSkewMs = 0;
  });

  it('wakes a listener when the sim delivers the completion of its request', async () => {
    const requestId = await submit();
    expect(await listener.wait(requestId, 10_000)).toBe('completed');
    await collector.settle();
    expect(collector.forRequest(requestId)).toEqual([{ requestId, status: 'OK' }]);
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    expect(await api.client.exists(falWebhookKey(requestId))).toBe(1);
  });

  it('answers a replay of the same signed delivery as a duplicate and publishes nothing', async () => {
    const requestId = await submit();
    expect(await listener.wait(requestId, 10_000)).toBe('completed');
    const [delivery] = deliveries;
    const replay = await postWebhook(api.url, delivery!);
    expect(replay).toEqual({ status: 200, body: { received: true, duplicate: true } });
    await collector.settle();
    expect(collector.forRequest(requestId)).toHaveLength(1);
  });

  it('refuses a tampered body or signature with 401 and publishes nothing', async () => {
    const { requestId, delivery } = await captureDelivery();
    const tamperedBody = { ...delivery, body: delivery.body.replace('"status":"OK"', '"status":"ERROR"') };
    expect(tamperedBody.body).not.toBe(delivery.body);
    const signature = delivery.headers['X-Fal-Webhook-Signature']!;
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const tamperedSignature = {
      ...delivery,
      headers: { ...delivery.headers, 'X-Fal-Webhook-Signature': flipped },
    };
    for (const forged of [tamperedBody, tamperedSignature]) {
      const response = await postWebhook(api.url, forged);
      expect(response.status).toBe(401);
      expect((response.body as ErrorBody).error).toMatchObject({
        type: 'authentication_error',
        code: 'invalid_signature',
        message: expect.stringContaining('signature does not match any known key'),
      });
    }
    await collector.settle();
    expect(collector.forRequest(requestId)).toEqual([]);
    expect(await api.client.exists(falWebhookKey(requestId))).toBe(0);

    // The genuine delivery still goes through: nothing was claimed by the forgeries.
    expect(await postWebhook(api.url, delivery)).toEqual({ status: 200, body: { received: true } });
    await collector.settle();
    expect(collector.forRequest(requestId)).toEqual([{ requestId, status: 'OK' }]);
  });

  it('refuses a delivery signed more than 300 s ago with 401', async () => {
    simClockSkewMs = -310_000;
    const { requestId, delivery } = await captureDelivery();
    const response = await postWebhook(api.url, delivery);
    expect(response.status).toBe(401);
    expect((response.body as ErrorBody).error.message).toMatch(/stale timestamp/);
    await collector.settle();
    expect(collector.forRequest(requestId)).toEqual([]);
  });

  it('needs no API key while the /v1 routes do', async () => {
    const { delivery } = await captureDelivery();
    expect((await postWebhook(api.url, delivery)).status).toBe(200);
    expect((await fetch(`${api.url}/v1/models`)).status).toBe(401);
  });
});

describe('POST /fal/webhook signed with a test key', () => {
  let jwksServer: Server;
  let privateKey: KeyObject;
  let api: ApiHarness;
  let collector: Collector;
  let ids = 0;

  /** A delivery as fal signs it; `timestampS` defaults to now. */
  const signed = (body: string, opts: { requestId?: string; timestampS?: number; key?: KeyObject } = {}) => {
    const requestId = opts.requestId ?? 'req';
    const timestamp = String(opts.timestampS ?? Math.floor(Date.now() / 1000));
    const hash = createHash('sha256').update(body).digest('hex');
    const message = Buffer.from(`${requestId}\nuser-1\n${timestamp}\n${hash}`, 'utf8');
    return {
      headers: {
        'content-type': 'application/json',
        'x-fal-webhook-request-id': requestId,
        'x-fal-webhook-user-id': 'user-1',
        'x-fal-webhook-timestamp': timestamp,
        'x-fal-webhook-signature': sign(null, message, opts.key ?? privateKey).toString('hex'),
      } as Record<string, string>,
      body,
    };
  };
  const completion = (requestId: string, status = 'OK') =>
    JSON.stringify({ request_id: requestId, gateway_request_id: requestId, status, payload: { images: [] } });
  const newId = () => `req-${++ids}`;

  beforeAll(async () => {
    const pair = generateKeyPairSync('ed25519');
    privateKey = pair.privateKey;
    const jwks = JSON.stringify({ keys: [pair.publicKey.export({ format: 'jwk' })] });
    jwksServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    api = await startApi({ FAL_JWKS_URL: jwksUrl, FAL_WEBHOOK_MAX_BODY_BYTES: '65536' });
    collector = await collectCompletions(api.redis.url);
  });
  afterAll(async () => {
    await collector?.close();
    await api?.close();
    jwksServer?.closeAllConnections();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  it('publishes the status of an ERROR completion', async () => {
    const id = newId();
    expect(await postWebhook(api.url, signed(completion(id, 'ERROR'), { requestId: id }))).toEqual({
      status: 200,
      body: { received: true },
    });
    await collector.settle();
    expect(collector.forRequest(id)).toEqual([{ requestId: id, status: 'ERROR' }]);
  });

  it('answers 400 when the body names another request than the signed header, and claims nothing', async () => {
    const [id, other] = [newId(), newId()];
    const response = await postWebhook(api.url, signed(completion(other), { requestId: id }));
    expect(response.status).toBe(400);
    expect((response.body as ErrorBody).error).toMatchObject({
      code: 'invalid_parameter',
      param: 'request_id',
    });
    await collector.settle();
    expect([...collector.forRequest(id), ...collector.forRequest(other)]).toEqual([]);
    expect(await api.client.exists(falWebhookKey(id), falWebhookKey(other))).toBe(0);
  });

  it.each([
    ['not JSON', '{"request_id": "req-x", ', 'invalid_json'],
    ['a JSON array', '["req-x"]', 'invalid_request'],
    ['an unknown status', JSON.stringify({ request_id: 'req-x', status: 'MAYBE' }), 'invalid_parameter'],
  ])('answers 400 for a signed body that is %s', async (_label, body, code) => {
    const response = await postWebhook(api.url, signed(body, { requestId: 'req-x' }));
    expect(response.status).toBe(400);
    expect((response.body as ErrorBody).error.code).toBe(code);
    await collector.settle();
    expect(collector.forRequest('req-x')).toEqual([]);
  });

  // Clear of the 300 s edge: the exact boundary is in the verifier's tests, on a fixed clock.
  it.each([
    ['290 s old', 200, -290],
    ['290 s ahead', 200, 290],
    ['310 s old', 401, -310],
    ['310 s ahead', 401, 310],
  ])('checks the timestamp: %s answers %s', async (_label, status, offsetS) => {
    const id = newId();
    const timestampS = Math.floor(Date.now() / 1000) + offsetS;
    const response = await postWebhook(api.url, signed(completion(id), { requestId: id, timestampS }));
    expect(response.status).toBe(status);
    await collector.settle();
    expect(collector.forRequest(id)).toHaveLength(status === 200 ? 1 : 0);
  });

  it('refuses an unsigned delivery with 401 and logs why at warn, without the body', async () => {
    const warn = vi.spyOn(api.deps.logger, 'warn');
    try {
      const id = newId();
      const { headers, body } = signed(completion(id), { requestId: id });
      const unsigned = { ...headers };
      delete unsigned['x-fal-webhook-signature'];
      const response = await postWebhook(api.url, { headers: unsigned, body });
      expect(response.status).toBe(401);
      expect((response.body as ErrorBody).error).toEqual({
        type: 'authentication_error',
        code: 'invalid_signature',
        message: 'invalid fal webhook signature: missing header x-fal-webhook-signature',
        param: null,
      });
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ reason: 'missing header x-fal-webhook-signature', requestId: id }),
        'fal webhook refused',
      );
      expect(JSON.stringify(warn.mock.calls)).not.toContain('payload');
    } finally {
      warn.mockRestore();
    }
  });

  it('refuses a delivery signed with another key', async () => {
    const id = newId();
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const response = await postWebhook(api.url, signed(completion(id), { requestId: id, key: stranger }));
    expect(response.status).toBe(401);
  });

  it('answers 413 above FAL_WEBHOOK_MAX_BODY_BYTES', async () => {
    const id = newId();
    const big = JSON.stringify({ request_id: id, status: 'OK', payload: { data: 'x'.repeat(70_000) } });
    const response = await postWebhook(api.url, signed(big, { requestId: id }));
    expect(response.status).toBe(413);
  });
});

describe('POST /fal/webhook when the JWKS cannot be fetched', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await startApi({ FAL_JWKS_URL: `http://127.0.0.1:${await getFreePort()}/.well-known/jwks.json` });
  });
  afterAll(async () => api?.close());

  it('answers 503 so that fal delivers again later', async () => {
    const body = JSON.stringify({ request_id: 'req-1', status: 'OK', payload: {} });
    const { privateKey } = generateKeyPairSync('ed25519');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const hash = createHash('sha256').update(body).digest('hex');
    const response = await postWebhook(api.url, {
      headers: {
        'content-type': 'application/json',
        'x-fal-webhook-request-id': 'req-1',
        'x-fal-webhook-user-id': 'u',
        'x-fal-webhook-timestamp': timestamp,
        'x-fal-webhook-signature': sign(
          null,
          Buffer.from(`req-1\nu\n${timestamp}\n${hash}`),
          privateKey,
        ).toString('hex'),
      },
      body,
    });
    expect(response.status).toBe(503);
    expect((response.body as ErrorBody).error.code).toBe('jwks_unavailable');
    expect(await api.client.exists(falWebhookKey('req-1'))).toBe(0);
  });
});

describe('FAL_JWKS_URL', () => {
  it("defaults to fal's JWKS and must be a URL", () => {
    expect(loadApiConfig({}).FAL_JWKS_URL).toBe('https://rest.fal.ai/.well-known/jwks.json');
    expect(() => loadApiConfig({ FAL_JWKS_URL: 'not a url' })).toThrow(/FAL_JWKS_URL/);
  });
});
