import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createGzip } from 'node:zlib';
import { createLogger } from '@fluxq/runtime';
import { makeDataUri, makeImage, secretsIn } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig, logSecrets } from '../src/config.js';
import { type ApiHarness, startApi } from './api-harness.js';

/**
 * A hostile-input corpus across every endpoint: oversized and deep bodies, duplicate keys,
 * encoded bodies, wrong types and content types, odd ids, path traversal, prototype keys,
 * header tricks. Every answer is a 4xx with our envelope (or node's own 431) or, where the
 * input is odd but harmless data, the ordinary answer; never a 5xx, and the API keeps
 * serving (`GET /healthz` after every case).
 */

const KEY = 'fq_hostile_corpus_key';
const MB = 1024 * 1024;

let open: ApiHarness;
let keyed: ApiHarness;
let png: Buffer;
/** 100 MB of zeros, gzipped (about 100 KB). */
let gzipBomb: Buffer;

async function gzipOfZeros(bytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const zeros = Buffer.alloc(MB);
  for (let sent = 0; sent < bytes; sent += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  [open, keyed] = await Promise.all([startApi(), startApi({ API_KEYS: `${KEY}:acme` })]);
  [png, gzipBomb] = await Promise.all([
    makeImage({ width: 64, height: 48, format: 'png' }),
    gzipOfZeros(100 * MB),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.close(), keyed?.close()]);
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
  json: any;
}

interface Send {
  method?: string;
  /** Sent as it is (no normalisation of `..`, no re-encoding). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /**
   * Declares this Content-Length but sends only `body` and waits for the answer: a body
   * the server must refuse without reading.
   */
  declaredLength?: number;
}

/** One request over node:http, so paths, headers and bytes go out exactly as written. */
function send(
  base: string,
  { method = 'GET', path, headers = {}, body, declaredLength }: Send,
): Promise<Answer> {
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const length = declaredLength ?? bytes?.length;
  return new Promise((resolve, reject) => {
    let answered = false;
    const { hostname, port } = new URL(base);
    // Host, port and path apart: a URL string would resolve `..` and `%2e%2e` before sending.
    const req = httpRequest({
      hostname,
      port,
      path,
      method,
      headers: { ...(length === undefined ? {} : { 'content-length': String(length) }), ...headers },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        answered = true;
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        if (declaredLength !== undefined) req.destroy();
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (bytes) req.write(bytes);
    if (declaredLength === undefined) req.end();
  });
}

interface Case {
  title: string;
  /** The keyed API (API_KEYS set); the open-mode one otherwise. */
  keyed?: boolean;
  /** Sends `Authorization: Bearer <KEY>` to the keyed API. @defaultValue true when keyed */
  auth?: boolean;
  request: () => Send;
  status: number;
  /** Our envelope's code; undefined where node answers itself (431). */
  code?: string;
  param?: string | null;
  message?: RegExp;
  check?: (answer: Answer, api: ApiHarness) => void | Promise<void>;
}

const jsonHeaders = { 'content-type': 'application/json' };
const post = (path: string, body: string | Buffer, headers: Record<string, string> = jsonHeaders): Send => ({
  method: 'POST',
  path,
  headers,
  body,
});
const postJson = (path: string, value: unknown) => post(path, JSON.stringify(value));
/** A declared body of `bytes`, of which only the first kilobyte is sent. */
const oversized = (path: string, bytes: number, contentType = 'application/json'): Send => ({
  method: 'POST',
  path,
  headers: { 'content-type': contentType },
  body: `{"prompt": "${'x'.repeat(1_000)}`,
  declaredLength: bytes,
});
const get = (path: string, headers: Record<string, string> = {}): Send => ({ path, headers });
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const deepBody = (levels: number) => `{"prompt": "p", "metadata": ${nested(levels)}}`;
const gzipped = (path: string): Send => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  body: gzipBomb,
});

function multipart(boundary: string, parts: Array<[name: string, value: string, filename?: string]>): string {
  let body = '';
  for (const [name, value, filename] of parts) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}\r\n`;
    if (filename !== undefined) body += 'Content-Type: image/png\r\n';
    body += `\r\n${value}\r\n`;
  }
  return `${body}--${boundary}--\r\n`;
}
const formHeaders = (boundary: string) => ({ 'content-type': `multipart/form-data; boundary=${boundary}` });

/** A job created in open mode, for the rows that need one to exist. */
async function createJob(api: ApiHarness, metadata: Record<string, string>): Promise<string> {
  const answer = await send(api.url, postJson('/v1/jobs', { prompt: 'p', metadata }));
  expect(answer.status).toBe(202);
  return answer.json.id as string;
}

const cases: Case[] = [
  // --- POST /v1/jobs -------------------------------------------------------------------
  {
    title: 'POST /v1/jobs declaring 41 MB',
    request: () => oversized('/v1/jobs', 41 * MB),
    status: 413,
    code: 'payload_too_large',
    check: (answer) => expect(answer.headers.connection).toBe('close'),
  },
  {
    title: 'POST /v1/jobs with JSON nested 10,000 levels',
    request: () => post('/v1/jobs', deepBody(10_000)),
    status: 400,
    code: 'invalid_request',
    message: /nests deeper than 32 levels/,
  },
  {
    title: 'POST /v1/jobs with JSON nested 33 levels',
    request: () => post('/v1/jobs', `{"prompt": "p", "x": ${nested(32)}}`),
    status: 400,
    code: 'invalid_request',
    message: /deeper than 32/,
  },
  {
    title: 'POST /v1/jobs with JSON nested 32 levels (the limit: judged by the normalizer)',
    request: () => post('/v1/jobs', `{"prompt": "p", "x": ${nested(31)}}`),
    status: 400,
    code: 'invalid_parameter',
    param: 'x',
  },
  {
    title: 'POST /v1/jobs with a 2 MB prompt',
    request: () => postJson('/v1/jobs', { prompt: 'x'.repeat(2 * MB) }),
    status: 400,
    code: 'invalid_request',
    param: 'prompt',
    message: /longer than 1048576 bytes/,
  },
  {
    title: 'POST /v1/jobs with a duplicate key',
    request: () => post('/v1/jobs', '{"prompt": "a cat", "prompt": "a dog"}'),
    status: 400,
    code: 'invalid_json',
    message: /duplicate key "prompt"/,
  },
  {
    title: 'POST /v1/jobs with a duplicate key spelt with an escape',
    request: () => post('/v1/jobs', '{"prompt": "a cat", "\\u0070rompt": "a dog"}'),
    status: 400,
    code: 'invalid_json',
    message: /duplicate key "prompt"/,
  },
  {
    title: 'POST /v1/jobs with a duplicate key inside metadata',
    request: () => post('/v1/jobs', '{"prompt": "p", "metadata": {"a": "1", "a": "2"}}'),
    status: 400,
    code: 'invalid_json',
    message: /duplicate key "a" \(at "metadata"\)/,
  },
  {
    title: 'POST /v1/jobs gzip-encoded (a 100 MB gzip bomb)',
    request: () => gzipped('/v1/jobs'),
    status: 415,
    code: 'unsupported_content_type',
    message: /Content-Encoding gzip/,
  },
  {
    title: 'POST /v1/jobs deflate-encoded',
    request: () => post('/v1/jobs', '{}', { ...jsonHeaders, 'content-encoding': 'deflate' }),
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'POST /v1/jobs as a urlencoded form',
    request: () => post('/v1/jobs', 'prompt=p', { 'content-type': 'application/x-www-form-urlencoded' }),
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'POST /v1/jobs JSON in UTF-16',
    request: () =>
      post('/v1/jobs', Buffer.from('{"prompt": "p"}', 'utf16le'), {
        'content-type': 'application/json; charset=utf-16le',
      }),
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'POST /v1/jobs with invalid UTF-8 bytes',
    request: () =>
      post(
        '/v1/jobs',
        Buffer.concat([Buffer.from('{"prompt": "'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
      ),
    status: 400,
    code: 'invalid_json',
    message: /UTF-8/,
  },
  {
    title: 'POST /v1/jobs with an empty JSON body (no body: no prompt)',
    request: () => post('/v1/jobs', ''),
    status: 400,
    code: 'missing_parameter',
    param: 'prompt',
  },
  {
    title: 'POST /v1/jobs with no content type and no body',
    request: () => ({ method: 'POST', path: '/v1/jobs' }),
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'POST /v1/jobs with prompt: 123',
    request: () => postJson('/v1/jobs', { prompt: 123 }),
    status: 400,
    code: 'missing_parameter',
    param: 'prompt',
  },
  {
    title: "POST /v1/jobs with images: 'x'",
    request: () => postJson('/v1/jobs', { prompt: 'p', images: 'x' }),
    status: 400,
    code: 'invalid_image',
    param: 'images',
  },
  {
    title: 'POST /v1/jobs with metadata: []',
    request: () => postJson('/v1/jobs', { prompt: 'p', metadata: [] }),
    status: 400,
    code: 'invalid_parameter',
    param: 'metadata',
  },
  {
    title: "POST /v1/jobs with webhook_events: 'job.failed' (a string, and no URL)",
    request: () => postJson('/v1/jobs', { prompt: 'p', webhook_events: 'job.failed' }),
    status: 400,
    code: 'invalid_parameter',
    param: 'webhook_events',
  },
  {
    title: "POST /v1/jobs with webhook_events: 'job.failed' next to a URL",
    request: () =>
      postJson('/v1/jobs', {
        prompt: 'p',
        webhook_url: 'https://example.com/hook',
        webhook_events: 'job.failed',
      }),
    status: 400,
    code: 'invalid_parameter',
    param: 'webhook_events',
  },
  {
    title: 'POST /v1/jobs with n: -1',
    request: () => postJson('/v1/jobs', { prompt: 'p', n: -1 }),
    status: 400,
    code: 'invalid_parameter',
    param: 'n',
  },
  {
    title: 'POST /v1/jobs with n: 1e308',
    request: () => post('/v1/jobs', '{"prompt": "p", "n": 1e308}'),
    status: 400,
    code: 'invalid_parameter',
    param: 'n',
  },
  {
    title: 'POST /v1/jobs with n: 1e999 (Infinity once parsed)',
    request: () => post('/v1/jobs', '{"prompt": "p", "n": 1e999}'),
    status: 400,
    code: 'invalid_parameter',
    param: 'n',
  },
  {
    title: 'POST /v1/jobs with seed: 2**64',
    request: () => post('/v1/jobs', '{"prompt": "p", "seed": 18446744073709551616}'),
    status: 400,
    code: 'invalid_parameter',
    param: 'seed',
  },
  {
    title: "POST /v1/jobs with size '99999x99999'",
    request: () => postJson('/v1/jobs', { prompt: 'p', size: '99999x99999' }),
    status: 400,
    code: 'invalid_size',
    param: 'size',
  },
  {
    title: 'POST /v1/jobs with cfg_scale: -1e308',
    request: () => post('/v1/jobs', '{"prompt": "p", "cfg_scale": -1e308}'),
    status: 400,
    code: 'invalid_parameter',
    param: 'cfg_scale',
  },
  {
    title: 'POST /v1/jobs with a __proto__ key in the body',
    request: () => post('/v1/jobs', '{"prompt": "p", "__proto__": {"polluted": "yes"}}'),
    status: 400,
    code: 'unknown_parameter',
    param: '__proto__',
  },
  {
    title: 'POST /v1/jobs with constructor.prototype in the body',
    request: () => post('/v1/jobs', '{"prompt": "p", "constructor": {"prototype": {"polluted": "yes"}}}'),
    status: 400,
    code: 'invalid_parameter',
    param: 'constructor',
  },
  {
    title: 'POST /v1/jobs with a __proto__ object in metadata',
    request: () => post('/v1/jobs', '{"prompt": "p", "metadata": {"__proto__": {"polluted": "yes"}}}'),
    status: 400,
    code: 'invalid_parameter',
    param: 'metadata',
  },
  {
    title: 'POST /v1/jobs with __proto__ and constructor as metadata strings: kept as data',
    request: () => post('/v1/jobs', '{"prompt": "p", "metadata": {"__proto__": "x", "constructor": "y"}}'),
    status: 202,
    check: async (answer, api) => {
      const job = await send(api.url, get(`/v1/jobs/${answer.json.id}`));
      expect(job.status).toBe(200);
      expect(Object.hasOwn(job.json.metadata, '__proto__')).toBe(true);
      expect(job.text).toContain('"metadata":{"__proto__":"x","constructor":"y"}');
    },
  },
  {
    title: 'POST /v1/jobs with CR/LF and a Set-Cookie in metadata: data, never a header',
    request: () =>
      postJson('/v1/jobs', { prompt: 'p', metadata: { a: 'x\r\nSet-Cookie: y=1', b: 'z\nLocation: /' } }),
    status: 202,
    check: async (answer, api) => {
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.headers.location).toBe(`/v1/jobs/${answer.json.id}`);
      const job = await send(api.url, get(`/v1/jobs/${answer.json.id}`));
      expect(job.headers['set-cookie']).toBeUndefined();
      expect(job.json.metadata).toEqual({ a: 'x\r\nSet-Cookie: y=1', b: 'z\nLocation: /' });
    },
  },
  {
    title: 'POST /v1/jobs?dry_run with NUL, an RTL override and emoji in the prompt: accepted as text',
    request: () => postJson('/v1/jobs?dry_run=true', { prompt: 'a\u0000b \u202Eevil\u202C 🦊🏳️‍🌈' }),
    status: 200,
  },
  // --- GET /v1/jobs/{id} ------------------------------------------------------------------
  {
    title: 'GET /v1/jobs/job_\\u0000',
    request: () => get('/v1/jobs/job_%00'),
    status: 404,
    code: 'job_not_found',
  },
  {
    title: 'GET /v1/jobs/{RTL override id}',
    request: () => get('/v1/jobs/job_%E2%80%AE0000000000000000000000000'),
    status: 404,
    code: 'job_not_found',
  },
  {
    title: 'GET /v1/jobs/{emoji id}',
    request: () => get('/v1/jobs/%F0%9F%A6%8A'),
    status: 404,
    code: 'job_not_found',
  },
  {
    title: 'GET /v1/jobs/{id} with broken percent-encoding',
    request: () => get('/v1/jobs/job_%E0%A4%A'),
    status: 400,
    code: 'invalid_request',
    message: /percent-encoding/,
  },
  {
    title: 'GET /v1/jobs/{8 KB id}: the message quotes a bounded part',
    request: () => get(`/v1/jobs/job_${'a'.repeat(8_000)}`),
    status: 404,
    code: 'job_not_found',
    check: (answer) => expect(answer.json.error.message.length).toBeLessThan(200),
  },
  // --- GET /v1/jobs?… ---------------------------------------------------------------------
  {
    title: 'GET /v1/jobs?limit=-1',
    request: () => get('/v1/jobs?limit=-1'),
    status: 400,
    code: 'invalid_parameter',
    param: 'limit',
  },
  {
    title: 'GET /v1/jobs?limit=1e308',
    request: () => get('/v1/jobs?limit=1e308'),
    status: 400,
    code: 'invalid_parameter',
    param: 'limit',
  },
  {
    title: 'GET /v1/jobs?limit=1&limit=2',
    request: () => get('/v1/jobs?limit=1&limit=2'),
    status: 400,
    code: 'invalid_parameter',
    param: 'limit',
  },
  {
    title: 'GET /v1/jobs?after=../../x',
    request: () => get('/v1/jobs?after=..%2F..%2Fx'),
    status: 400,
    code: 'invalid_parameter',
    param: 'after',
  },
  {
    title: 'GET /v1/jobs?status=__proto__',
    request: () => get('/v1/jobs?status=__proto__'),
    status: 400,
    code: 'invalid_parameter',
    param: 'status',
  },
  // --- POST /v1/jobs/{id}/cancel ----------------------------------------------------------
  {
    title: 'POST /v1/jobs/{id}/cancel declaring 41 MB',
    request: () => oversized('/v1/jobs/job_0000000000000000000000000/cancel', 41 * MB),
    status: 413,
    code: 'payload_too_large',
  },
  {
    title: 'POST /v1/jobs/{id}/cancel with a 100 KB body',
    request: () => post('/v1/jobs/job_0000000000000000000000000/cancel', `{"x": "${'y'.repeat(100_000)}"}`),
    status: 413,
    code: 'payload_too_large',
  },
  {
    title: 'POST /v1/jobs/{id}/cancel gzip-encoded',
    request: () => gzipped('/v1/jobs/job_0000000000000000000000000/cancel'),
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'POST /v1/jobs/{NUL id}/cancel',
    request: () => ({ method: 'POST', path: '/v1/jobs/job_%00/cancel' }),
    status: 404,
    code: 'job_not_found',
  },
  // --- GET /v1/jobs/{id}/events -----------------------------------------------------------
  {
    title: 'GET /v1/jobs/{traversal id}/events',
    request: () => get('/v1/jobs/..%2F..%2Fetc%2Fpasswd/events'),
    status: 404,
    code: 'job_not_found',
  },
  {
    title: 'GET /v1/jobs/{emoji id}/events',
    request: () => get('/v1/jobs/%F0%9F%A6%8A/events', { accept: 'text/event-stream' }),
    status: 404,
    code: 'job_not_found',
  },
  // --- POST /v1/images/generations --------------------------------------------------------
  {
    title: 'POST /v1/images/generations declaring 41 MB',
    request: () => oversized('/v1/images/generations', 41 * MB),
    status: 413,
    code: 'payload_too_large',
  },
  {
    title: 'POST /v1/images/generations with JSON nested 10,000 levels',
    request: () => post('/v1/images/generations', deepBody(10_000)),
    status: 400,
    code: 'invalid_request',
  },
  {
    title: 'POST /v1/images/generations gzip-encoded',
    request: () => gzipped('/v1/images/generations'),
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: "POST /v1/images/generations with n: '2; DROP TABLE jobs'",
    request: () => postJson('/v1/images/generations', { prompt: 'p', n: '2; DROP TABLE jobs' }),
    status: 400,
    code: 'invalid_parameter',
    param: 'n',
  },
  {
    title: 'POST /v1/images/generations with a duplicate key',
    request: () => post('/v1/images/generations', '{"prompt": "p", "n": 1, "n": 10}'),
    status: 400,
    code: 'invalid_json',
  },
  // --- POST /v1/images/edits (JSON) -------------------------------------------------------
  {
    title: 'POST /v1/images/edits (JSON) with a 2 MB string outside the image fields',
    request: () =>
      postJson('/v1/images/edits', { prompt: 'p', images: ['upl_00000000'], user: 'u'.repeat(2 * MB) }),
    status: 400,
    code: 'invalid_request',
    param: 'user',
  },
  {
    title:
      'POST /v1/images/edits (JSON) with a 2 MB data: URI in images: past the string limit, judged as an image',
    request: () =>
      postJson('/v1/images/edits', { prompt: 'p', images: [`data:image/png;base64,${'A'.repeat(2 * MB)}`] }),
    status: 415,
    code: 'unsupported_image_type',
  },
  {
    title: 'POST /v1/images/edits (JSON) with a duplicate images key',
    request: () =>
      post(
        '/v1/images/edits',
        `{"prompt": "p", "images": ["${makeDataUri(png, 'image/png')}"], "images": []}`,
      ),
    status: 400,
    code: 'invalid_json',
    message: /duplicate key "images"/,
  },
  {
    title: 'POST /v1/images/edits (JSON) gzip-encoded',
    request: () => gzipped('/v1/images/edits'),
    status: 415,
    code: 'unsupported_content_type',
  },
  // --- POST /v1/images/edits (multipart) --------------------------------------------------
  {
    title: 'POST /v1/images/edits (multipart) with __proto__ and constructor field names',
    request: () =>
      post(
        '/v1/images/edits',
        multipart('b0', [
          ['__proto__[polluted]', 'yes'],
          ['constructor[prototype][polluted]', 'yes'],
          ['metadata[__proto__][polluted]', 'yes'],
          ['prompt', 'p'],
        ]),
        formHeaders('b0'),
      ),
    status: 400,
  },
  {
    title: 'POST /v1/images/edits (multipart) without a boundary',
    request: () => post('/v1/images/edits', 'x', { 'content-type': 'multipart/form-data' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    title: 'POST /v1/images/edits (multipart) with a traversal filename, NUL and CR/LF in fields',
    request: () =>
      post(
        '/v1/images/edits',
        multipart('b1', [
          ['prompt', 'a\u0000b'],
          ['size', '1024x1024\r\nX-Injected: 1'],
          ['image', 'not really a png', '../../../etc/passwd'],
        ]),
        formHeaders('b1'),
      ),
    status: 400,
    code: 'invalid_size',
    check: (answer) => expect(answer.headers['x-injected']).toBeUndefined(),
  },
  // --- POST /v1/uploads, GET /v1/uploads/{id} ---------------------------------------------
  {
    title: 'POST /v1/uploads declaring 100 MB',
    request: () => oversized('/v1/uploads', 100 * MB, 'multipart/form-data; boundary=b2'),
    status: 413,
    code: 'payload_too_large',
  },
  {
    title: 'POST /v1/uploads with a traversal filename: stored under its own id',
    request: () =>
      post(
        '/v1/uploads',
        Buffer.concat([
          Buffer.from(
            '--b3\r\nContent-Disposition: form-data; name="file"; filename="../../../../etc/passwd"\r\nContent-Type: image/png\r\n\r\n',
          ),
          png,
          Buffer.from('\r\n--b3--\r\n'),
        ]),
        formHeaders('b3'),
      ),
    status: 200,
    check: (answer) => {
      expect(answer.json.id).toMatch(/^upl_[a-z0-9]+$/);
      expect(answer.text).not.toContain('passwd');
    },
  },
  {
    title: 'POST /v1/uploads with the file in a __proto__ field',
    request: () => post('/v1/uploads', multipart('b4', [['__proto__', 'x', 'a.png']]), formHeaders('b4')),
    status: 400,
    code: 'invalid_request',
  },
  {
    title: 'POST /v1/uploads gzip-encoded',
    request: () => ({
      ...gzipped('/v1/uploads'),
      headers: { ...formHeaders('b5'), 'content-encoding': 'gzip' },
    }),
    status: 415,
    code: 'unsupported_content_type',
  },
  {
    title: 'GET /v1/uploads/upl_\\u0000',
    request: () => get('/v1/uploads/upl_%00'),
    status: 404,
    code: 'upload_not_found',
  },
  {
    title: 'GET /v1/uploads/{traversal id}',
    request: () => get('/v1/uploads/..%2F..%2F..%2Fetc%2Fpasswd'),
    status: 404,
    code: 'upload_not_found',
  },
  // --- GET /v1/files/{key} ----------------------------------------------------------------
  {
    title: 'GET /v1/files/..%2F..%2Fetc%2Fpasswd',
    request: () => get('/v1/files/..%2F..%2Fetc%2Fpasswd'),
    status: 400,
    code: 'invalid_request',
    param: 'key',
  },
  {
    title: 'GET /v1/files/outputs/../../x (sent without normalisation)',
    request: () => get('/v1/files/outputs/../../x?expires=9999999999&sig=x'),
    status: 400,
    code: 'invalid_request',
    param: 'key',
  },
  {
    title: 'GET /v1/files with encoded backslashes',
    request: () => get('/v1/files/outputs%5C..%5C..%5Cetc%5Cpasswd'),
    status: 400,
    code: 'invalid_request',
    param: 'key',
  },
  {
    title: 'GET /v1/files with %2e%2e segments',
    request: () => get('/v1/files/%2e%2e/%2e%2e/etc/passwd'),
    status: 400,
    code: 'invalid_request',
    param: 'key',
  },
  {
    title: 'GET /v1/files with a NUL in the key',
    request: () => get('/v1/files/outputs/local/job_x/0.png%00.txt'),
    status: 400,
    code: 'invalid_request',
    param: 'key',
  },
  {
    title: 'GET /v1/files with array and huge signature parameters',
    request: () => get('/v1/files/outputs/local/job_x/0.png?expires=1e308&sig=a&sig=b'),
    status: 403,
    code: 'invalid_signature',
  },
  // --- GET /v1/models/{id} ----------------------------------------------------------------
  {
    title: 'GET /v1/models/__proto__',
    request: () => get('/v1/models/__proto__'),
    status: 404,
    code: 'model_not_found',
  },
  {
    title: 'GET /v1/models/constructor',
    request: () => get('/v1/models/constructor'),
    status: 404,
    code: 'model_not_found',
  },
  {
    title: 'GET /v1/models/{model id with NUL}',
    request: () => get('/v1/models/flux.2-dev%00'),
    status: 404,
    code: 'model_not_found',
  },
  // --- /v1/webhooks/* ---------------------------------------------------------------------
  {
    title: 'POST /v1/webhooks/secret/rotate declaring 41 MB',
    request: () => oversized('/v1/webhooks/secret/rotate', 41 * MB),
    status: 413,
    code: 'payload_too_large',
  },
  {
    title: 'POST /v1/webhooks/recover declaring 1 MB (over its 64 KB)',
    request: () => oversized('/v1/webhooks/recover', MB),
    status: 413,
    code: 'payload_too_large',
  },
  {
    title: 'POST /v1/webhooks/recover with since: 1e308',
    request: () => post('/v1/webhooks/recover', '{"since": 1e308}'),
    status: 400,
    code: 'invalid_parameter',
    param: 'since',
  },
  {
    title: 'POST /v1/webhooks/recover with a duplicate since',
    request: () => post('/v1/webhooks/recover', '{"since": 0, "since": "2020-01-01"}'),
    status: 400,
    code: 'invalid_json',
  },
  {
    title: 'POST /v1/webhooks/endpoints/enable with url: {"$gt": ""}',
    request: () => postJson('/v1/webhooks/endpoints/enable', { url: { $gt: '' } }),
    status: 400,
    code: 'missing_parameter',
    param: 'url',
  },
  {
    title: 'POST /v1/webhooks/endpoints/enable nested 10,000 levels',
    request: () => post('/v1/webhooks/endpoints/enable', `{"url": ${nested(10_000)}}`),
    status: 400,
    code: 'invalid_request',
  },
  {
    title: 'GET /v1/webhooks/deliveries?limit=1e308',
    request: () => get('/v1/webhooks/deliveries?limit=1e308'),
    status: 400,
    code: 'invalid_parameter',
    param: 'limit',
  },
  {
    title: 'GET /v1/webhooks/deliveries?status=__proto__',
    request: () => get('/v1/webhooks/deliveries?status=__proto__'),
    status: 400,
    code: 'invalid_parameter',
    param: 'status',
  },
  {
    title: 'GET /v1/webhooks/deliveries/{NUL id}',
    request: () => get('/v1/webhooks/deliveries/%00'),
    status: 404,
    code: 'webhook_delivery_not_found',
  },
  {
    title: 'POST /v1/webhooks/deliveries/{id}/resend declaring 41 MB',
    request: () => oversized('/v1/webhooks/deliveries/whd_x/resend', 41 * MB),
    status: 413,
    code: 'payload_too_large',
  },
  // --- POST /fal/webhook ------------------------------------------------------------------
  {
    title: 'POST /fal/webhook unsigned',
    request: () => postJson('/fal/webhook', { request_id: 'r', status: 'OK' }),
    status: 401,
    code: 'invalid_signature',
  },
  {
    title: 'POST /fal/webhook declaring 30 MB (over its 20 MB)',
    request: () => oversized('/fal/webhook', 30 * MB),
    status: 413,
    code: 'payload_too_large',
  },
  {
    title: 'POST /fal/webhook gzip-encoded',
    request: () => gzipped('/fal/webhook'),
    status: 415,
    code: 'unsupported_content_type',
  },
  // --- headers, auth, request ids ---------------------------------------------------------
  {
    title: 'a URL of 20 KB (node answers 431 itself)',
    request: () => get(`/v1/jobs/${'a'.repeat(20_000)}`),
    status: 431,
  },
  {
    title: 'a header of 20 KB (node answers 431 itself)',
    request: () => get('/v1/models', { 'x-padding': 'p'.repeat(20_000) }),
    status: 431,
  },
  {
    title: 'a sane x-request-id is echoed, on an error too',
    request: () => get('/v1/nothing-here', { 'x-request-id': 'client-trace_01.a:b' }),
    status: 404,
    code: 'not_found',
    check: (answer) => expect(answer.headers['x-request-id']).toBe('client-trace_01.a:b'),
  },
  {
    title: 'an x-request-id with markup is replaced',
    request: () => get('/healthz', { 'x-request-id': '<script>alert(1)</script>' }),
    status: 200,
    check: (answer) => expect(answer.headers['x-request-id']).toMatch(/^req_[0-9a-z]+$/),
  },
  {
    title: 'an x-request-id of 129 characters is replaced',
    request: () => get('/healthz', { 'x-request-id': 'a'.repeat(129) }),
    status: 200,
    check: (answer) => expect(answer.headers['x-request-id']).toMatch(/^req_/),
  },
  {
    title: 'keyed: no Authorization',
    keyed: true,
    auth: false,
    request: () => postJson('/v1/jobs', { prompt: 'p' }),
    status: 401,
    code: 'invalid_api_key',
  },
  {
    title: 'keyed: Basic credentials',
    keyed: true,
    auth: false,
    request: () => get('/v1/jobs', { authorization: 'Basic Zm9vOmJhcg==' }),
    status: 401,
    code: 'invalid_api_key',
  },
  {
    title: 'keyed: the key with 8 KB appended',
    keyed: true,
    auth: false,
    request: () => get('/v1/jobs', { authorization: `Bearer ${KEY}${'x'.repeat(8_000)}` }),
    status: 401,
    code: 'invalid_api_key',
  },
  {
    title: 'keyed: two keys in one header',
    keyed: true,
    auth: false,
    request: () => get('/v1/jobs', { authorization: `Bearer ${KEY} Bearer ${KEY}` }),
    status: 401,
    code: 'invalid_api_key',
  },
  {
    title: 'keyed: a valid key with a deep body',
    keyed: true,
    request: () => post('/v1/jobs', deepBody(10_000)),
    status: 400,
    code: 'invalid_request',
  },
  {
    title: 'keyed: unauthenticated cancel of a NUL id',
    keyed: true,
    auth: false,
    request: () => ({ method: 'POST', path: '/v1/jobs/job_%00/cancel' }),
    status: 401,
    code: 'invalid_api_key',
  },
];

const STACK_TRACE = /\n\s+at |node_modules|\.ts:\d+:\d+/;

describe('hostile input across every endpoint', () => {
  it('has a corpus of at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
  });

  it.each(cases)('$title → $status $code', async (c) => {
    const api = c.keyed ? keyed : open;
    const request = c.request();
    const auth: Record<string, string> =
      c.keyed && c.auth !== false ? { authorization: `Bearer ${KEY}` } : {};
    const answer = await send(api.url, { ...request, headers: { ...auth, ...request.headers } });

    expect(answer.status, answer.text.slice(0, 300)).toBe(c.status);
    expect(answer.status).toBeLessThan(500);
    expect(answer.text).not.toMatch(STACK_TRACE);
    if (c.code !== undefined) {
      expect(answer.json?.error?.code, answer.text.slice(0, 300)).toBe(c.code);
      expect(answer.json.error.message.length).toBeGreaterThan(0);
    }
    if (c.param !== undefined) expect(answer.json.error.param).toBe(c.param);
    if (c.message) expect(answer.json.error.message).toMatch(c.message);
    if (answer.status !== 431) {
      // Express answered: the request id and the security headers are on every answer.
      expect(answer.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
    await c.check?.(answer, api);

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const health = await send(api.url, get('/healthz'));
    expect(health.status).toBe(200);
  });

  it('reads no gzip bomb: memory stays flat while bombs are refused', async () => {
    const before = process.memoryUsage();
    for (let i = 0; i < 5; i++) {
      const answer = await send(open.url, gzipped('/v1/jobs'));
      expect(answer.status).toBe(415);
    }
    const after = process.memoryUsage();
    // Inflating even one would take 100 MB.
    expect(after.arrayBuffers + after.heapUsed - (before.arrayBuffers + before.heapUsed)).toBeLessThan(
      50 * MB,
    );
  });

  it('polluted no prototype', () => {
    for (const proto of [Object.prototype, Array.prototype, Function.prototype]) {
      expect(Object.hasOwn(proto, 'polluted')).toBe(false);
    }
  });

  it('created no job from a refused request', async () => {
    // Only the rows answered 202 created jobs (plus one per row that creates its own).
    const keys = await keyed.deps.redis.keys('{fluxq}:job:*');
    expect(keys).toEqual([]);
  });

  it('logged every refusal under its request id, and no API key', () => {
    const lines = keyed.logs().map((line) => JSON.parse(line) as Record<string, unknown>);
    const refusals = lines.filter((line) => line.msg === 'request refused');
    expect(refusals.length).toBeGreaterThan(0);
    for (const line of refusals) expect(line.reqId).toMatch(/^req_/);
    expect(secretsIn(keyed.logs(), [KEY])).toEqual([]);
  });
});

describe('a job row needs a job', () => {
  it('cancels a real job despite a hostile id next to it, and streams its events', async () => {
    const id = await createJob(open, { note: 'x' });
    const cancel = await send(open.url, { method: 'POST', path: `/v1/jobs/${id}/cancel` });
    expect(cancel.status).toBe(200);
    expect(cancel.json.status).toBe('canceled');
    const events = await send(open.url, get(`/v1/jobs/${id}/events`));
    expect(events.status).toBe(200);
    expect(events.text).toContain('event: job.canceled');
  });
});

describe('the harness log check', () => {
  it('fails the file when an API key reaches a log line', async () => {
    const api = await startApi({ API_KEYS: 'fq_k9:acme' });
    // Short keys escape the fq_ pattern the logger masks: only the harness check catches them.
    api.deps.logger.info({ note: 'caller sent fq_k9' }, 'a careless line');
    expect(api.logs().some((line) => line.includes('fq_k9'))).toBe(true);
    await expect(api.close()).rejects.toThrow(/secrets found in the logs: fq_k9/);
  });
});

describe('the API process logger (main.ts)', () => {
  it('masks the configured keys and signing secret whatever their shape', () => {
    const config = loadApiConfig({
      API_KEYS: 'fq_k1:acme,fq_k2:globex',
      ADMIN_API_KEY: 'plain-admin-key',
      FILES_SIGNING_SECRET: 'a-signing-secret-of-at-least-32-chars',
    });
    expect(logSecrets(config)).toEqual([
      'fq_k1',
      'fq_k2',
      'plain-admin-key',
      'a-signing-secret-of-at-least-32-chars',
    ]);
    const lines: string[] = [];
    const logger = createLogger({
      name: 'api',
      secrets: logSecrets(config),
      destination: { write: (line: string) => void lines.push(line) },
    });
    logger.info({ echo: 'fq_k1 / plain-admin-key' }, 'signing with a-signing-secret-of-at-least-32-chars');
    expect(secretsIn(lines, logSecrets(config))).toEqual([]);
  });
});
