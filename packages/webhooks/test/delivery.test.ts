import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  attemptDelivery,
  generateWebhookSecret,
  newWebhookMessageId,
  type ResolvedAddress,
  signedHeaders,
} from '../src/index.js';
import { closedPort, useServers } from './http-fixture.js';

const allow = ['127.0.0.1/32'];
const body = JSON.stringify({
  type: 'job.succeeded',
  timestamp: new Date().toISOString(),
  data: { id: 'job_1' },
});
const headers = { 'webhook-id': 'msg_test' };

describe('attemptDelivery', () => {
  const start = useServers();

  describe('when the receiver answers', () => {
    it('is delivered on 2xx, with a signed request the reference library verifies', async () => {
      const secret = generateWebhookSecret();
      const receiver = await start((_req, res) => res.writeHead(204).end());
      const signed = signedHeaders({
        id: newWebhookMessageId(),
        timestampS: Math.floor(Date.now() / 1000),
        body,
        secrets: [secret],
      });
      const outcome = await attemptDelivery({
        url: `${receiver.origin}/hooks?t=1`,
        allow,
        headers: signed,
        body,
      });

      expect(outcome).toMatchObject({ kind: 'delivered', status: 204, address: '127.0.0.1' });
      expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
      const [request] = receiver.requests;
      expect(request).toMatchObject({ method: 'POST', url: '/hooks?t=1', body });
      expect(request?.headers['content-type']).toBe('application/json');
      expect(request?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
      const received = {
        'webhook-id': String(request?.headers['webhook-id']),
        'webhook-timestamp': String(request?.headers['webhook-timestamp']),
        'webhook-signature': String(request?.headers['webhook-signature']),
      };
      expect(new Webhook(secret).verify(request?.body ?? '', received)).toEqual(JSON.parse(body));
    });

    it('is gone on 410, so the endpoint can be disabled', async () => {
      const receiver = await start((_req, res) => res.writeHead(410).end('unsubscribed'));
      expect(await attemptDelivery({ url: receiver.origin, allow, headers, body })).toMatchObject({
        kind: 'gone',
        status: 410,
        error: 'HTTP 410 Gone',
        bodySnippet: 'unsubscribed',
      });
    });

    it('retries a redirect without following it', async () => {
      const target = await start((_req, res) => res.writeHead(200).end());
      const receiver = await start((_req, res) =>
        res.writeHead(302, { location: `${target.origin}/elsewhere` }).end(),
      );
      const outcome = await attemptDelivery({ url: receiver.origin, allow, headers, body });
      expect(outcome).toMatchObject({
        kind: 'retry',
        status: 302,
        error: `HTTP 302 Found: redirect to ${target.origin}/elsewhere not followed`,
      });
      expect(receiver.requests).toHaveLength(1);
      expect(target.requests).toHaveLength(0);
    });

    it.each([
      [503, '7', 7_000],
      [429, '0', 0],
      [503, undefined, undefined],
    ])('retries %i and reads Retry-After: %s', async (status, retryAfter, retryAfterMs) => {
      const receiver = await start((_req, res) =>
        res.writeHead(status, retryAfter === undefined ? {} : { 'retry-after': retryAfter }).end('busy'),
      );
      const outcome = await attemptDelivery({ url: receiver.origin, allow, headers, body });
      expect(outcome).toMatchObject({ kind: 'retry', status, bodySnippet: 'busy' });
      expect(outcome.kind === 'retry' ? outcome.retryAfterMs : 'not a retry').toBe(retryAfterMs);
    });

    it('reads a Retry-After HTTP date', async () => {
      const at = new Date(Date.now() + 60_000).toUTCString();
      const receiver = await start((_req, res) => res.writeHead(503, { 'retry-after': at }).end());
      const outcome = await attemptDelivery({ url: receiver.origin, allow, headers, body });
      expect(outcome.kind).toBe('retry');
      const wait = outcome.kind === 'retry' ? outcome.retryAfterMs : undefined;
      // The date has whole seconds, so the wait is 59–60 s.
      expect(wait).toBeGreaterThan(58_000);
      expect(wait).toBeLessThanOrEqual(60_000);
    });

    it.each([400, 401, 404, 408, 409, 422, 500, 502])('retries any other non-2xx (%i)', async (status) => {
      const receiver = await start((_req, res) => res.writeHead(status).end());
      expect(await attemptDelivery({ url: receiver.origin, allow, headers, body })).toMatchObject({
        kind: 'retry',
        status,
      });
    });
  });

  describe('when the receiver does not answer', () => {
    it('retries after the timeout when it accepts and never answers', async () => {
      const receiver = await start(() => {});
      const outcome = await attemptDelivery({ url: receiver.origin, allow, headers, body, timeoutMs: 300 });
      expect(outcome).toMatchObject({ kind: 'retry', error: 'timed out after 300 ms' });
      expect(outcome.status).toBeUndefined();
      expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
      expect(receiver.requests).toHaveLength(1);
    });

    it('retries when the connection is refused', async () => {
      const port = await closedPort();
      const outcome = await attemptDelivery({ url: `http://127.0.0.1:${port}/`, allow, headers, body });
      expect(outcome).toMatchObject({ kind: 'retry', error: `connect ECONNREFUSED 127.0.0.1:${port}` });
    });

    it('retries when the caller aborts', async () => {
      const receiver = await start(() => {});
      const controller = new AbortController();
      const pending = attemptDelivery({
        url: receiver.origin,
        allow,
        headers,
        body,
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 50);
      expect(await pending).toMatchObject({ kind: 'retry', error: 'aborted by the caller' });
    });
  });

  describe('when the SSRF guard refuses the URL', () => {
    it('is blocked and sends nothing', async () => {
      const receiver = await start((_req, res) => res.writeHead(200).end());
      const outcome = await attemptDelivery({ url: receiver.origin, headers, body });
      expect(outcome).toMatchObject({
        kind: 'blocked',
        reason: '127.0.0.1 is a loopback address',
        error: '127.0.0.1 is a loopback address',
      });
      expect(receiver.requests).toHaveLength(0);
    });

    it('resolves once and connects to the checked address, not a rebound one (DNS rebinding)', async () => {
      const receiver = await start((_req, res) => res.writeHead(200).end());
      // First answer public, every later answer the receiver on loopback.
      const lookups: string[] = [];
      const rebinding = async (host: string): Promise<ResolvedAddress[]> => {
        lookups.push(host);
        return [{ address: lookups.length === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
      };
      const outcome = await attemptDelivery({
        url: `http://rebind.example.com:${receiver.port}/`,
        headers,
        body,
        resolve: rebinding,
        timeoutMs: 2_000,
      });
      expect(lookups).toEqual(['rebind.example.com']);
      // The connection went to the public address (nothing of ours listens there), so it failed.
      expect(outcome).toMatchObject({ kind: 'retry', address: '93.184.216.34' });
      expect(receiver.requests).toHaveLength(0);
    });
  });
});
