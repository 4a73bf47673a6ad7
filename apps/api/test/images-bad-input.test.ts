import { request as httpRequest } from 'node:http';
import { bmpImage, makeDataUri, makeImage, pngHeaderDeclaring, textFile, truncated } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';

/** Limits set low so the size cases need small bodies. */
const MAX_FILE_BYTES = 200_000;
const MAX_TOTAL_BYTES = 400_000;

let api: ApiHarness;
let png: Buffer;
let jpeg: Buffer;
let tiff: Buffer;

beforeAll(async () => {
  api = await startApi({
    MAX_UPLOAD_FILE_BYTES: String(MAX_FILE_BYTES),
    MAX_MULTIPART_TOTAL_BYTES: String(MAX_TOTAL_BYTES),
  });
  [png, jpeg, tiff] = await Promise.all([
    makeImage({ width: 64, height: 48, format: 'png' }),
    makeImage({ width: 640, height: 480, format: 'jpeg' }),
    makeImage({ width: 32, height: 32, format: 'tiff' }),
  ]);
});
afterAll(async () => api?.close());

type Part = [field: string, value: string | { bytes: Buffer; filename: string; type?: string }];

function form(parts: Part[]): FormData {
  const body = new FormData();
  for (const [field, value] of parts) {
    if (typeof value === 'string') body.append(field, value);
    else body.append(field, new Blob([value.bytes], { type: value.type ?? 'image/png' }), value.filename);
  }
  return body;
}

const file =
  (bytes: () => Buffer, filename = 'source.png') =>
  () => ({ bytes: bytes(), filename });
const prompt: Part = ['prompt', 'make it autumn'];

interface Case {
  title: string;
  path?: string;
  body: () => FormData | string;
  contentType?: string;
  status: number;
  code: string;
  param?: string | null;
  message?: RegExp;
}

const multipart =
  (...parts: Array<Part | (() => Part)>) =>
  () =>
    form(parts.map((part) => (typeof part === 'function' ? part() : part)));
const image = (bytes: () => Buffer, filename?: string) => (): Part => ['image', file(bytes, filename)()];

const cases: Case[] = [
  {
    title: 'no file',
    body: multipart(prompt, ['size', '1024x1024']),
    status: 400,
    code: 'missing_parameter',
    param: 'image',
  },
  {
    title: 'five files',
    body: multipart(prompt, ...Array.from({ length: 5 }, () => image(() => png))),
    status: 400,
    code: 'too_many_images',
    param: 'image',
  },
  {
    title: 'a file over the size limit',
    body: multipart(
      prompt,
      image(() => Buffer.alloc(MAX_FILE_BYTES + 1, 1)),
    ),
    status: 413,
    code: 'payload_too_large',
    param: 'image',
    message: new RegExp(`${MAX_FILE_BYTES} bytes`),
  },
  {
    title: 'files over the total limit together',
    body: multipart(prompt, ...Array.from({ length: 3 }, () => image(() => Buffer.alloc(150_000, 2)))),
    status: 413,
    code: 'payload_too_large',
    message: new RegExp(`together exceed ${MAX_TOTAL_BYTES} bytes`),
  },
  {
    title: 'a text file named .png',
    body: multipart(
      prompt,
      image(() => textFile(), 'photo.png'),
    ),
    status: 415,
    code: 'unsupported_image_type',
  },
  {
    title: 'a TIFF',
    body: multipart(
      prompt,
      image(() => tiff, 'photo.tiff'),
    ),
    status: 415,
    code: 'unsupported_image_type',
    message: /TIFF/,
  },
  {
    title: 'a BMP',
    body: multipart(
      prompt,
      image(() => bmpImage(16, 16), 'photo.bmp'),
    ),
    status: 415,
    code: 'unsupported_image_type',
    message: /BMP/,
  },
  {
    title: 'a truncated JPEG',
    body: multipart(
      prompt,
      image(() => truncated(jpeg), 'photo.jpg'),
    ),
    status: 400,
    code: 'invalid_image',
  },
  {
    title: 'a PNG declaring 30000x30000 pixels',
    body: multipart(
      prompt,
      image(() => pngHeaderDeclaring(30_000, 30_000)),
    ),
    status: 413,
    code: 'image_too_large',
    message: /30000x30000/,
  },
  {
    title: 'an empty file',
    body: multipart(
      prompt,
      image(() => Buffer.alloc(0)),
    ),
    status: 400,
    code: 'invalid_image',
  },
  {
    title: 'an unknown file field',
    body: multipart(
      prompt,
      image(() => png),
      () => ['photo', file(() => png)()],
    ),
    status: 400,
    code: 'unknown_parameter',
    param: 'photo',
    message: /"photo"/,
  },
  {
    title: 'a mask file',
    body: multipart(
      prompt,
      image(() => png),
      () => ['mask', file(() => png, 'mask.png')()],
    ),
    status: 400,
    code: 'unsupported_parameter',
    param: 'mask',
    message: /mask is not supported/,
  },
  {
    title: 'a mask text field',
    body: multipart(
      prompt,
      image(() => png),
      ['mask', 'data:image/png;base64,AAAA'],
    ),
    status: 400,
    code: 'unsupported_parameter',
    param: 'mask',
  },
  {
    title: 'stream=true',
    body: multipart(
      prompt,
      image(() => png),
      ['stream', 'true'],
    ),
    status: 400,
    code: 'unsupported_parameter',
    param: 'stream',
  },
  {
    title: 'a bad size in a text field',
    body: multipart(
      prompt,
      image(() => png),
      ['size', '100x100'],
    ),
    status: 400,
    code: 'invalid_size',
    param: 'size',
  },
  {
    title: 'a text field over the field limit',
    body: multipart(
      ['prompt', 'x'.repeat(300_000)],
      image(() => png),
    ),
    status: 413,
    code: 'payload_too_large',
    param: 'prompt',
  },
  {
    title: 'too many fields',
    body: multipart(
      prompt,
      image(() => png),
      ...Array.from({ length: 70 }, (_, i): Part => [`f${i}`, 'x']),
    ),
    status: 400,
    code: 'invalid_request',
  },
  {
    title: 'a multipart body cut short',
    body: () => '--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nmake it',
    contentType: 'multipart/form-data; boundary=xyz',
    status: 400,
    code: 'invalid_request',
  },
  {
    title: 'a text/plain body',
    body: () => 'prompt=p',
    contentType: 'text/plain',
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'JSON edits without images',
    body: () => JSON.stringify({ prompt: 'p', images: [] }),
    contentType: 'application/json',
    status: 400,
    code: 'missing_parameter',
    param: 'image',
  },
  {
    title: 'JSON edits with six images',
    body: () => JSON.stringify({ prompt: 'p', images: Array(6).fill(makeDataUri(png, 'image/png')) }),
    contentType: 'application/json',
    status: 400,
    code: 'too_many_images',
  },
  {
    title: 'generations with an input image',
    path: '/v1/images/generations',
    body: () => JSON.stringify({ prompt: 'p', image: makeDataUri(png, 'image/png') }),
    contentType: 'application/json',
    status: 400,
    code: 'invalid_parameter',
    param: 'image',
  },
  {
    title: 'generations with an unknown model',
    path: '/v1/images/generations',
    body: () => JSON.stringify({ prompt: 'p', model: 'dall-e-3' }),
    contentType: 'application/json',
    status: 400,
    code: 'unknown_model',
    param: 'model',
  },
  {
    title: 'generations as multipart',
    path: '/v1/images/generations',
    body: multipart(prompt),
    status: 415,
    code: 'unsupported_content_type',
  },
];

async function expectHealthy() {
  expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
}

describe('POST /v1/images/* with bad input', () => {
  it.each(cases)('answers $status $code for $title, and keeps serving', async (c) => {
    const body = c.body();
    const response = await fetch(`${api.url}${c.path ?? '/v1/images/edits'}`, {
      method: 'POST',
      headers: c.contentType ? { 'content-type': c.contentType } : {},
      body,
    });
    const envelope = (await response.json()) as {
      error: { code: string; message: string; type: string; param: string | null };
    };
    expect({ status: response.status, code: envelope.error.code }).toEqual({
      status: c.status,
      code: c.code,
    });
    expect(envelope.error.type).toBe('invalid_request_error');
    if (c.param !== undefined) expect(envelope.error.param).toBe(c.param);
    if (c.message) expect(envelope.error.message).toMatch(c.message);
    await expectHealthy();
  });

  it('refuses a declared body far over the limit before reading it, and closes the connection', async () => {
    const size = MAX_TOTAL_BYTES + 2 * 1024 * 1024;
    const answer = await new Promise<{ status: number; connection?: string; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(`${api.url}/v1/images/edits`, {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=xyz', 'content-length': String(size) },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
          );
        });
        req.on('error', reject);
        // Send only the start: the answer must come without the rest.
        req.write('--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\np\r\n');
      },
    );
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    await expectHealthy();
  });

  it('accepts nothing from the bad requests: no job was recorded', async () => {
    expect(await api.client.keys('{fluxq}:job:*')).toEqual([]);
  });
});
