import { bmpImage, makeDataUri, makeImage, truncated } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';

let api: ApiHarness;
let png: Buffer;

beforeAll(async () => {
  api = await startApi();
  png = await makeImage({ width: 64, height: 48, format: 'png' });
});
afterAll(async () => api?.close());

interface Case {
  title: string;
  method?: string;
  path?: string;
  body?: string | (() => string);
  contentType?: string;
  status: number;
  code: string;
  param?: string | null;
}

const json = (value: unknown) => () => JSON.stringify(value);

const cases: Case[] = [
  {
    title: 'no prompt',
    body: json({ model: 'flux.2-dev-turbo' }),
    status: 400,
    code: 'missing_parameter',
    param: 'prompt',
  },
  {
    title: 'five images',
    body: () => JSON.stringify({ prompt: 'p', images: Array(5).fill(makeDataUri(png, 'image/png')) }),
    status: 400,
    code: 'too_many_images',
    param: 'images',
  },
  {
    title: 'bytes that are not an image',
    body: json({
      prompt: 'p',
      images: [`data:image/png;base64,${Buffer.from('hello, not an image').toString('base64')}`],
    }),
    status: 415,
    code: 'unsupported_image_type',
  },
  {
    title: 'a truncated PNG',
    body: () => JSON.stringify({ prompt: 'p', images: [makeDataUri(truncated(png), 'image/png')] }),
    status: 400,
    code: 'invalid_image',
  },
  {
    title: 'a BMP',
    body: () => JSON.stringify({ prompt: 'p', images: [makeDataUri(bmpImage(8, 8), 'image/bmp')] }),
    status: 415,
    code: 'unsupported_image_type',
  },
  {
    title: 'size 100x100',
    body: json({ prompt: 'p', size: '100x100' }),
    status: 400,
    code: 'invalid_size',
    param: 'size',
  },
  {
    title: 'size 5000x5000',
    body: json({ prompt: 'p', size: '5000x5000' }),
    status: 400,
    code: 'invalid_size',
    param: 'size',
  },
  {
    title: 'an unknown model',
    body: json({ prompt: 'p', model: 'sdxl' }),
    status: 400,
    code: 'unknown_model',
    param: 'model',
  },
  { title: 'n=0', body: json({ prompt: 'p', n: 0 }), status: 400, code: 'invalid_parameter', param: 'n' },
  {
    title: 'output_format bmp',
    body: json({ prompt: 'p', output_format: 'bmp' }),
    status: 400,
    code: 'invalid_parameter',
    param: 'output_format',
  },
  {
    title: 'output_compression 101',
    body: json({ prompt: 'p', output_compression: 101 }),
    status: 400,
    code: 'invalid_parameter',
    param: 'output_compression',
  },
  {
    title: 'a prompt over the limit',
    body: json({ prompt: 'x'.repeat(32_001) }),
    status: 400,
    code: 'prompt_too_long',
    param: 'prompt',
  },
  { title: 'a non-JSON body', body: '{"prompt": "p",', status: 400, code: 'invalid_json' },
  {
    title: 'a wrong content type',
    body: 'prompt=p',
    contentType: 'text/plain',
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'an unknown job id',
    method: 'GET',
    path: '/v1/jobs/job_0000000000000000000000000',
    status: 404,
    code: 'job_not_found',
  },
  {
    title: 'a malformed job id',
    method: 'GET',
    path: '/v1/jobs/../../etc/passwd',
    status: 404,
    code: 'not_found',
  },
  {
    title: 'a data URI that is not base64',
    body: json({ prompt: 'p', images: ['data:image/png;base64,***not base64***'] }),
    status: 400,
    code: 'invalid_image',
    param: 'images',
  },
  { title: 'a JSON array body', body: json([{ prompt: 'p' }]), status: 400, code: 'invalid_request' },
  {
    title: 'metadata that is not string pairs',
    body: json({ prompt: 'p', metadata: { a: 1 } }),
    status: 400,
    code: 'invalid_parameter',
    param: 'metadata',
  },
  {
    title: 'an http image URL',
    body: json({ prompt: 'p', images: ['http://example.com/a.png'] }),
    status: 400,
    code: 'invalid_image_url',
  },
  { title: 'an unknown route', method: 'GET', path: '/v1/nothing-here', status: 404, code: 'not_found' },
  {
    title: 'a file URL with no signature',
    method: 'GET',
    path: '/v1/files/outputs/local/job_x/0.png',
    status: 403,
    code: 'invalid_signature',
  },
];

describe('POST /v1/jobs and friends with bad input', () => {
  it.each(cases)('answers $status $code for $title, and keeps serving', async (c) => {
    const body = typeof c.body === 'function' ? c.body() : c.body;
    const response = await fetch(`${api.url}${c.path ?? '/v1/jobs'}`, {
      method: c.method ?? 'POST',
      headers: body === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' },
      body,
    });
    const envelope = (await response.json()) as {
      error: { code: string; message: string; type: string; param: string | null };
    };
    expect(response.status).toBe(c.status);
    expect(envelope.error.code).toBe(c.code);
    expect(envelope.error.message.length).toBeGreaterThan(0);
    expect(envelope.error.type).toBe(
      c.status === 404 ? 'not_found_error' : c.status === 403 ? 'permission_error' : 'invalid_request_error',
    );
    if (c.param !== undefined) expect(envelope.error.param).toBe(c.param);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('accepts nothing from the bad requests: no job was recorded', async () => {
    const keys = await api.client.keys('{fluxq}:job:*');
    expect(keys).toEqual([]);
  });
});
