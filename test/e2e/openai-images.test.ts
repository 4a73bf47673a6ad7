import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeDataUri, makeImage, waitFor } from '@fluxq/testing';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadImage, getJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const run = promisify(execFile);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface ImagesBody {
  created: number;
  id: string;
  data: Array<{ url?: string; b64_json?: string; revised_prompt?: string }>;
  output_format: string;
  size: string;
}

describe('OpenAI Images API compatibility, end to end on real processes', () => {
  let stack: Stack;
  let openai: OpenAI;
  let png: Buffer;
  let dir: string;

  /** A raw JSON call, for parameters the openai package does not type and for headers. */
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { response, body: (await response.json()) as ImagesBody & Record<string, unknown> };
  };

  beforeAll(async () => {
    [stack, png, dir] = await Promise.all([
      startStack(),
      makeImage({ width: 800, height: 600, format: 'png' }),
      mkdtemp(join(tmpdir(), 'fluxq-openai-')),
    ]);
    openai = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: 'unused' });
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => stack.sim.reset());

  describe('the official openai package, unchanged', () => {
    it('generates with response_format url', async () => {
      const result = await openai.images.generate({
        model: 'flux.2-dev-turbo',
        prompt: 'a lighthouse at dawn, watercolor',
        size: '1024x768' as '1024x1024',
        response_format: 'url',
      });
      expect(result.created).toBeGreaterThan(1_600_000_000);
      expect(result.data).toHaveLength(1);
      const image = result.data![0]!;
      expect(image.revised_prompt).toEqual(expect.any(String));
      expect((await downloadImage(image.url!)).metadata).toMatchObject({
        width: 1024,
        height: 768,
        format: 'png',
      });
      expect(result).toMatchObject({
        output_format: 'png',
        size: '1024x768',
        id: expect.stringMatching(/^job_/),
      });
    });

    it('generates with response_format b64_json', async () => {
      const result = await openai.images.generate({
        model: 'flux.2-dev-turbo',
        prompt: 'a red bicycle',
        size: '768x1024' as '1024x1024',
        response_format: 'b64_json',
      });
      const image = result.data![0]!;
      expect(image.url).toBeUndefined();
      const metadata = await sharp(Buffer.from(image.b64_json!, 'base64')).metadata();
      expect(metadata).toMatchObject({ width: 768, height: 1024, format: 'png' });
    });

    it('edits one file', async () => {
      const result = await openai.images.edit({
        model: 'flux.2-dev-turbo' as 'gpt-image-1',
        image: await toFile(png, 'source.png', { type: 'image/png' }),
        prompt: 'make it autumn',
        size: '1024x768' as '1024x1024',
      });
      expect((await downloadImage(result.data![0]!.url!)).metadata).toMatchObject({
        width: 1024,
        height: 768,
      });
      const job = await getJob(stack.apiUrl, (result as unknown as ImagesBody).id);
      expect(job).toMatchObject({ operation: 'edit', status: 'succeeded' });
    });

    it('edits an array of files', async () => {
      const jpeg = await makeImage({ width: 640, height: 640, format: 'jpeg', seed: 2 });
      const result = await openai.images.edit({
        model: 'flux.2-dev-flash' as 'gpt-image-1',
        image: [
          await toFile(png, 'a.png', { type: 'image/png' }),
          await toFile(jpeg, 'b.jpg', { type: 'image/jpeg' }),
        ],
        prompt: 'put the two together',
        response_format: 'b64_json',
      });
      expect(result.data![0]!.b64_json).toEqual(expect.any(String));
      const job = (await getJob(stack.apiUrl, (result as unknown as ImagesBody).id)) as unknown as {
        input: { images: Array<{ width: number; height: number }> };
      };
      expect(job.input.images.map(({ width, height }) => [width, height])).toEqual([
        [800, 600],
        [640, 640],
      ]);
    });

    it('surfaces a bad request as OpenAI.BadRequestError with our code and message', async () => {
      const error = await openai.images
        .generate({ model: 'flux.2-dev-turbo', prompt: 'p', size: '100x100' as '256x256' })
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
      expect(bad).toMatchObject({
        status: 400,
        code: 'invalid_size',
        param: 'size',
        type: 'invalid_request_error',
      });
      expect(bad.message).toMatch(/size 100x100 is not supported/);
      expect(bad.error).toMatchObject({
        code: 'invalid_size',
        message: expect.stringMatching(/512 and 2048/),
      });
    });

    it('answers a job fal refused with 400 provider_validation_error', async () => {
      const detail = [{ loc: ['body', 'prompt'], msg: 'prompt refused', type: 'value_error' }];
      stack.sim.setFaults([{ on: 'outcome', status: 422, body: { detail } }]);
      const error = await openai.images.generate({ prompt: 'p' }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ code: 'provider_validation_error', type: 'invalid_request_error' });
      const jobId = (error as InstanceType<typeof OpenAI.APIError>).headers?.get('fluxq-job-id');
      expect((await getJob(stack.apiUrl, jobId!)).status).toBe('failed');
    });

    it('answers a job that failed at fal with 502 provider_error, which the client does not retry', async () => {
      stack.sim.setFaults([{ on: 'outcome', status: 500, times: -1 }]);
      const error = await openai.images.generate({ prompt: 'p' }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 502, code: 'provider_error', type: 'api_error' });
      // One job's attempts (JOB_ATTEMPTS=5), not three jobs' worth from client retries.
      expect(stack.sim.stats().submits).toBe(5);
    });
  });

  it('runs the seed curl example with the real curl binary', async () => {
    await writeFile(join(dir, 'source.png'), png);
    const { stdout } = await run(
      'curl',
      [
        '-sS',
        '-X',
        'POST',
        `${stack.apiUrl}/v1/images/edits`,
        '-H',
        'Authorization: Bearer k',
        '-F',
        'model=flux.2-dev-turbo',
        '-F',
        'image=@source.png',
        '-F',
        'prompt=make it look like a winter morning',
        '-F',
        'size=1024x1024',
      ],
      { cwd: dir },
    );
    const body = JSON.parse(stdout) as ImagesBody;
    expect(body.data).toHaveLength(1);
    expect((await downloadImage(body.data[0]!.url!)).metadata).toMatchObject({ width: 1024, height: 1024 });
  });

  describe('parameter rules through HTTP', () => {
    it.each([
      ['gif', 'gif'],
      ['avif', 'heif'],
    ])('makes %s outputs at the requested size', async (outputFormat, sharpFormat) => {
      const { response, body } = await post('/v1/images/generations', {
        prompt: 'a cat',
        size: '512x768',
        output_format: outputFormat,
      });
      expect(response.status).toBe(200);
      expect(body.output_format).toBe(outputFormat);
      expect((await downloadImage(body.data[0]!.url!)).metadata).toMatchObject({
        width: 512,
        height: 768,
        format: sharpFormat,
      });
    });

    it('returns n=6 distinct images', async () => {
      const { response, body } = await post('/v1/images/generations', {
        prompt: 'six variations',
        size: '512x512',
        n: 6,
        response_format: 'b64_json',
      });
      expect(response.status).toBe(200);
      expect(body.data).toHaveLength(6);
      expect(new Set(body.data.map((image) => sha256(Buffer.from(image.b64_json!, 'base64')))).size).toBe(6);
    });

    it('gives identical bytes for the same seed, and takes JSON edits with {image_url}', async () => {
      const request = {
        prompt: 'same seed',
        images: [{ image_url: makeDataUri(png, 'image/png') }],
        size: '512x512',
        seed: 4242,
        response_format: 'b64_json',
      };
      const [first, second] = [
        await post('/v1/images/edits', request),
        await post('/v1/images/edits', request),
      ];
      expect([first.response.status, second.response.status]).toEqual([200, 200]);
      expect(first.body.id).not.toBe(second.body.id);
      expect(first.body.data[0]!.b64_json).toBe(second.body.data[0]!.b64_json);
    });

    it('answers 202 with an interactive job for Prefer: respond-async', async () => {
      const { response, body } = await post(
        '/v1/images/generations',
        { prompt: 'later' },
        {
          prefer: 'respond-async',
        },
      );
      expect(response.status).toBe(202);
      expect(response.headers.get('preference-applied')).toBe('respond-async');
      expect(response.headers.get('location')).toBe(`/v1/jobs/${body.id}`);
      expect(body).toMatchObject({ object: 'job', priority: 'interactive', status: 'queued' });
      expect((await waitForTerminal(stack.apiUrl, body.id)).status).toBe('succeeded');
    });

    it('replays the same job for a repeated Idempotency-Key, and refuses it with another body', async () => {
      const headers = { prefer: 'respond-async', 'idempotency-key': 'images-retry-1' };
      const first = await post('/v1/images/generations', { prompt: 'once only' }, headers);
      const again = await post('/v1/images/generations', { prompt: 'once only' }, headers);
      expect(first.response.status).toBe(202);
      expect(again.response.status).toBe(202);
      expect(again.response.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      const other = await post('/v1/images/generations', { prompt: 'something else' }, headers);
      expect(other.response.status).toBe(422);
      expect((await waitForTerminal(stack.apiUrl, first.body.id)).status).toBe('succeeded');
      expect(stack.sim.stats().submits).toBe(1);
    });

    it('answers 202 with the unfinished job when Prefer: wait=N runs out', async () => {
      stack.sim.setFaults([{ on: 'outcome', delayMs: 3_000 }]);
      const started = Date.now();
      const { response, body } = await post(
        '/v1/images/generations',
        { prompt: 'slow' },
        { prefer: 'wait=1' },
      );
      const elapsedMs = Date.now() - started;
      expect(response.status).toBe(202);
      expect(elapsedMs).toBeGreaterThanOrEqual(900);
      expect(response.headers.get('preference-applied')).toBe('wait=1');
      expect(['queued', 'running']).toContain(body.status);
      expect((await waitForTerminal(stack.apiUrl, body.id)).status).toBe('succeeded');
    });

    it('lets the job finish when the client hangs up while waiting', async () => {
      stack.sim.setFaults([{ on: 'outcome', delayMs: 1_000 }]);
      const hangUp = new AbortController();
      const call = fetch(`${stack.apiUrl}/v1/images/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'nobody waits' }),
        signal: hangUp.signal,
      });
      await waitFor(() => stack.sim.stats().submits === 1, { message: 'the job to reach fal' });
      hangUp.abort();
      await expect(call).rejects.toThrow();
      await waitFor(() => stack.sim.stats().completed === 1, { message: 'the job to finish at fal' });
      expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
    });
  });
});
