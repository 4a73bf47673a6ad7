import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';

/**
 * The SSRF guard at submit time (DESIGN §7): webhook and image URLs naming or resolving to
 * loopback, private, link-local, metadata or unspecified addresses are a 400 naming the
 * reason, and nothing is recorded; the allow-list lets local ones through.
 */
const REFUSED: Array<[url: string, reason: RegExp]> = [
  ['http://127.0.0.1/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://10.0.0.1/hook', /10\.0\.0\.1 is a private address/],
  ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254/],
  ['http://[::1]/hook', /::1 is a loopback address/],
  ['http://[::ffff:127.0.0.1]/hook', /127\.0\.0\.1, a loopback address/],
  ['http://0.0.0.0/hook', /0\.0\.0\.0/],
  ['http://2130706433/hook', /127\.0\.0\.1 is a loopback address/],
  ['http://localhost/hook', /localhost resolves to .*loopback/],
  ['http://[fd00:ec2::254]/hook', /fd00:ec2::254/],
  ['ftp://example.com/hook', /unsupported scheme ftp:/],
];

describe('URLs the API refuses at submit', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ ALLOW_HTTP_IMAGE_URLS: 'true' });
  });
  afterAll(async () => api?.close());

  const post = async (body: unknown) => {
    const response = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      body: (await response.json()) as { error?: { code: string; message: string; param: string } },
    };
  };
  const jobCount = async () => {
    const list = (await fetch(`${api.url}/v1/jobs`).then((r) => r.json())) as { data: unknown[] };
    return list.data.length;
  };

  it.each(REFUSED)('refuses webhook_url %s, naming why', async (url, reason) => {
    const response = await post({ prompt: 'p', webhook_url: url });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_webhook_url', param: 'webhook_url' });
    expect(response.body.error?.message).toMatch(reason);
    expect(await jobCount()).toBe(0);
  });

  it.each(REFUSED.filter(([url]) => url.startsWith('http:')))(
    'refuses image URL %s, naming why',
    async (url, reason) => {
      const response = await post({ prompt: 'p', images: [url.replace('/hook', '/a.png')] });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_image_url', param: 'images' });
      expect(response.body.error?.message).toMatch(reason);
    },
  );

  it('refuses webhook_events without a webhook_url, and unknown events', async () => {
    expect((await post({ prompt: 'p', webhook_events: ['job.failed'] })).body.error?.param).toBe(
      'webhook_events',
    );
    const unknown = await post({
      prompt: 'p',
      webhook_url: 'https://hooks.example/x',
      webhook_events: ['job.exploded'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toMatch(/job\.exploded/);
  });

  // Issue 11: a host that does not exist is a 400 at submit, not a failure five attempts later.
  it('refuses a webhook_url whose host does not exist, naming the host, and records nothing', async () => {
    const response = await post({ prompt: 'x', webhook_url: 'http://no-such-host.invalid/' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_webhook_url', param: 'webhook_url' });
    expect(response.body.error?.message).toMatch(/no such host no-such-host\.invalid/);
    expect(await jobCount()).toBe(0);
  });

  it('refuses an image URL whose host does not exist, naming the host', async () => {
    const response = await post({ prompt: 'x', images: ['https://images.no-such-host.invalid/a.png'] });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_image_url', param: 'images' });
    expect(response.body.error?.message).toMatch(/no such host images\.no-such-host\.invalid/);
    expect(await jobCount()).toBe(0);
  });

  it('refuses an image URL with credentials as invalid_image_url', async () => {
    const response = await post({ prompt: 'x', images: ['https://user:pass@images.example/a.png'] });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_image_url', param: 'images' });
    expect(response.body.error?.message).toMatch(/credentials/);
  });
});

describe('URLs whose name the resolver could not look up', () => {
  let api: ApiHarness;
  const lookups: string[] = [];
  beforeAll(async () => {
    api = await startApi(
      {},
      {
        // A resolver that times out (EAI_AGAIN): nothing is known about the name yet.
        resolve: async (host) => {
          lookups.push(host);
          throw Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: 'EAI_AGAIN' });
        },
      },
    );
  });
  afterAll(async () => api?.close());

  it('accepts the URL, to be checked again when the worker connects', async () => {
    const response = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'p',
        webhook_url: 'https://hooks.example/x',
        webhook_events: ['job.started'],
      }),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(202);
    expect(body).toMatchObject({ webhook_url: 'https://hooks.example/x', webhook_events: ['job.started'] });
    expect(lookups).toContain('hooks.example');
  });
});

describe('URLs on the allow-list', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ URL_ALLOW_LIST: '127.0.0.1,::1/128', ALLOW_HTTP_IMAGE_URLS: 'true' });
  });
  afterAll(async () => api?.close());

  it.each(['http://127.0.0.1:9/hook', 'http://[::1]:9/hook'])('accepts %s', async (url) => {
    const response = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'p', webhook_url: url }),
    });
    expect(response.status).toBe(202);
  });
});
