import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeImage } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputRejectedError } from '../src/errors.js';
import { fetchImageUrl } from '../src/images/fetch-image-url.js';

/** Input image URLs go through the SSRF guard at fetch time too: DNS may have changed since submit. */
describe('fetchImageUrl', () => {
  let server: Server;
  let url: string;
  let png: Buffer;
  let hits = 0;
  const limits = { timeoutMs: 2_000, maxBytes: 1_000_000, allowHttp: true, allow: [] as string[] };

  beforeAll(async () => {
    png = await makeImage({ width: 64, height: 64, format: 'png' });
    server = createServer((req, res) => {
      hits += 1;
      if (req.url === '/moved') res.writeHead(302, { location: '/a.png' }).end();
      else res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a loopback address without contacting it', async () => {
    const before = hits;
    const error = await fetchImageUrl(`${url}/a.png`, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputRejectedError);
    expect((error as Error).message).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(hits).toBe(before);
  });

  it('fetches it when allow-listed', async () => {
    const bytes = await fetchImageUrl(`${url}/a.png`, { ...limits, allow: ['127.0.0.1'] });
    expect(Buffer.from(bytes).equals(png)).toBe(true);
  });

  it('does not follow a redirect (its target would escape the check)', async () => {
    const error = await fetchImageUrl(`${url}/moved`, { ...limits, allow: ['127.0.0.1'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputRejectedError);
    expect((error as Error).message).toMatch(/HTTP 302/);
  });

  // Issue 11: a host that does not exist will not exist on the next attempt either.
  it('refuses a host that does not exist as final (the job fails on this attempt)', async () => {
    const error = await fetchImageUrl('https://images.no-such-host.invalid/a.png', limits).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputRejectedError);
    expect((error as Error).message).toMatch(/no such host images\.no-such-host\.invalid/);
  });
});
