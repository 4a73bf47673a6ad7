import { describe, expect, it } from 'vitest';
import {
  fetchPinned,
  OUTBOUND_ERROR_CODES,
  OutboundRequestError,
  postPinned,
  RESPONSE_SNIPPET_BYTES,
} from '../src/index.js';
import { useServers } from './http-fixture.js';

/** A target whose URL names a host that does not exist, pinned to the test server. */
const pinned = (port: number, path = '/') => ({
  url: new URL(`http://files.example.com:${port}${path}`),
  address: '127.0.0.1',
  family: 4 as const,
});

async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

describe('pinned requests', () => {
  const start = useServers();

  describe('postPinned', () => {
    it('connects to the pinned address and sends the URL host in Host', async () => {
      const server = await start((_req, res) => res.writeHead(201, { 'x-one': ['a', 'b'] }).end('ok'));
      const result = await postPinned(pinned(server.port, '/in?x=1'), {
        headers: { 'content-type': 'text/plain', Host: 'evil.example', 'Content-Length': '1' },
        body: 'héllo',
        timeoutMs: 2_000,
      });
      expect(result).toMatchObject({ status: 201, bodySnippet: 'ok', headers: { 'x-one': 'a, b' } });
      const [request] = server.requests;
      expect(request).toMatchObject({ method: 'POST', url: '/in?x=1', body: 'héllo' });
      expect(request?.headers.host).toBe(`files.example.com:${server.port}`);
      expect(request?.headers['content-length']).toBe('6');
    });

    it(`keeps only the first ${RESPONSE_SNIPPET_BYTES} bytes of a large response`, async () => {
      const server = await start((_req, res) => res.writeHead(200).end('x'.repeat(1_000_000)));
      const result = await postPinned(pinned(server.port), { headers: {}, body: '', timeoutMs: 2_000 });
      expect(result.bodySnippet).toBe('x'.repeat(RESPONSE_SNIPPET_BYTES));
    });

    it('times out the whole exchange, including a body that never ends', async () => {
      const server = await start((_req, res) => {
        res.writeHead(200);
        res.write('partial');
      });
      const failure = postPinned(pinned(server.port), { headers: {}, body: '', timeoutMs: 200 });
      await expect(failure).rejects.toBeInstanceOf(OutboundRequestError);
      await expect(failure).rejects.toMatchObject({ code: OUTBOUND_ERROR_CODES.TIMEOUT });
    });

    it('fails at once when the signal is already aborted', async () => {
      const server = await start((_req, res) => res.writeHead(200).end());
      const failure = postPinned(pinned(server.port), {
        headers: {},
        body: '',
        timeoutMs: 2_000,
        signal: AbortSignal.abort(),
      });
      await expect(failure).rejects.toMatchObject({ code: OUTBOUND_ERROR_CODES.ABORTED });
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('fetchPinned', () => {
    it('GETs the pinned address and streams the body', async () => {
      const server = await start((_req, res) =>
        res.writeHead(200, { 'content-type': 'image/png' }).end('PNGDATA'),
      );
      const result = await fetchPinned(pinned(server.port, '/a.png'), { timeoutMs: 2_000 });
      expect(result).toMatchObject({ status: 200, headers: { 'content-type': 'image/png' } });
      expect(await readAll(result.body)).toBe('PNGDATA');
      expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/a.png' });
      expect(server.requests[0]?.headers.host).toBe(`files.example.com:${server.port}`);
    });

    it('does not follow redirects', async () => {
      const server = await start((_req, res) => res.writeHead(301, { location: '/b.png' }).end());
      const result = await fetchPinned(pinned(server.port, '/a.png'), { timeoutMs: 2_000 });
      expect(result).toMatchObject({ status: 301, headers: { location: '/b.png' } });
      await readAll(result.body);
      expect(server.requests).toHaveLength(1);
    });

    it('destroys a body that is still dripping when the timeout passes', async () => {
      const server = await start((_req, res) => {
        res.writeHead(200);
        res.write('first bytes');
      });
      const result = await fetchPinned(pinned(server.port), { timeoutMs: 200 });
      await expect(readAll(result.body)).rejects.toMatchObject({
        name: 'OutboundRequestError',
        code: OUTBOUND_ERROR_CODES.TIMEOUT,
      });
    });

    it('times out a server that never answers', async () => {
      const server = await start(() => {});
      await expect(fetchPinned(pinned(server.port), { timeoutMs: 200 })).rejects.toMatchObject({
        code: OUTBOUND_ERROR_CODES.TIMEOUT,
        message: 'timed out after 200 ms',
      });
    });
  });
});
