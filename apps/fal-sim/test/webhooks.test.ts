import { createHash, createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { startSim, submit, waitFor } from './helpers.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
}

describe('fal_webhook deliveries', () => {
  let sim: FalSim;
  let receiver: Server;
  let receiverUrl: string;
  let deliveries: Delivery[];
  /** Status codes the receiver answers with, in order; 200 once exhausted. */
  let answers: number[];

  beforeAll(async () => {
    sim = await startSim();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await sim.close();
    await new Promise((resolve) => receiver.close(resolve));
  });
  beforeEach(() => {
    sim.reset();
    deliveries = [];
    answers = [];
  });

  const submitWithHook = (input: unknown) =>
    submit(sim, `fal-ai/flux-2/turbo?fal_webhook=${encodeURIComponent(receiverUrl)}`, input);

  it('posts an OK payload signed with the key from the JWKS when the request succeeds', async () => {
    const { body } = await submitWithHook({ prompt: 'p', image_size: 'square' });
    const [delivery] = await waitFor(() => (deliveries.length ? deliveries : undefined));
    const payload = JSON.parse(delivery!.raw);
    expect(payload).toMatchObject({
      request_id: body.request_id,
      status: 'OK',
      payload: { images: [expect.any(Object)] },
    });

    const h = delivery!.headers;
    const message = [
      h['x-fal-webhook-request-id'],
      h['x-fal-webhook-user-id'],
      h['x-fal-webhook-timestamp'],
      createHash('sha256').update(delivery!.raw).digest('hex'),
    ].join('\n');
    const [jwk] = sim.jwks().keys;
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const signature = Buffer.from(String(h['x-fal-webhook-signature']), 'hex');
    expect(verify(null, Buffer.from(message), key, signature)).toBe(true);
    expect(Math.abs(Number(h['x-fal-webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
  });

  it('posts an ERROR payload with the error body when the request fails', async () => {
    const { body } = await submitWithHook({ image_size: 'square' });
    const [delivery] = await waitFor(() => (deliveries.length ? deliveries : undefined));
    expect(JSON.parse(delivery!.raw)).toMatchObject({
      request_id: body.request_id,
      status: 'ERROR',
      error: 'Invalid status code: 422',
      payload: { detail: [expect.objectContaining({ loc: ['body', 'prompt'] })] },
    });
  });

  it('retries a delivery the receiver refused', async () => {
    answers = [500, 503];
    await submitWithHook({ prompt: 'p', image_size: 'square' });
    await waitFor(() => (deliveries.length === 3 ? true : undefined));
    expect(new Set(deliveries.map((d) => d.headers['x-fal-webhook-request-id'])).size).toBe(1);
    expect(sim.stats().webhookAttempts).toBe(3);
  });
});
