import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { AUTH, call, download, startSim, submit, submitAndWait, waitForStatus } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('fal queue protocol', () => {
  let sim: FalSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  describe('when a request is submitted', () => {
    it('answers the IN_QUEUE envelope with URLs that use only owner/app for an /edit endpoint', async () => {
      const { status, body } = await submit(sim, 'fal-ai/flux-2/turbo/edit', { prompt: 'x', image_urls: [] });
      expect(status).toBe(200);
      expect(body).toMatchObject({ status: 'IN_QUEUE', queue_position: 0, logs: null, metrics: {} });
      expect(body.request_id).toMatch(UUID);
      const base = `${sim.url}/fal-ai/flux-2/requests/${body.request_id}`;
      expect(body.response_url).toBe(base);
      expect(body.status_url).toBe(`${base}/status`);
      expect(body.cancel_url).toBe(`${base}/cancel`);
    });

    it('uses the configured public URL in the envelope when one is set', async () => {
      const other = await startSim({ publicUrl: 'https://queue.example.test/' });
      try {
        const { body } = await submit(other, 'fal-ai/flux-2/flash', { prompt: 'x' });
        expect(body.status_url).toBe(
          `https://queue.example.test/fal-ai/flux-2/requests/${body.request_id}/status`,
        );
      } finally {
        await other.close();
      }
    });

    it('answers 401 with a JSON detail when the key is missing', async () => {
      const response = await fetch(`${sim.url}/fal-ai/flux-2/turbo`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(await response.json()).toEqual({ detail: expect.any(String) });
    });

    it('answers 404 when the endpoint is not in the catalog', async () => {
      const { status, body } = await submit(sim, 'fal-ai/flux-2/ultra', { prompt: 'x' });
      expect(status).toBe(404);
      expect(body.detail).toContain('fal-ai/flux-2/ultra');
      expect(sim.stats().submits).toBe(0);
    });

    it('answers 400 JSON when the body is not JSON', async () => {
      const { status, headers, body } = await call(`${sim.url}/fal-ai/flux-2/turbo`, {
        method: 'POST',
        body: '{no',
      });
      expect(status).toBe(400);
      expect(headers.get('content-type')).toContain('application/json');
      expect(body.detail).toEqual(expect.any(String));
    });
  });

  describe('when a request completes', () => {
    it('goes COMPLETED with 200 and inference_time, and serves a real image at the requested size and format', async () => {
      const input = {
        prompt: 'a lighthouse',
        image_size: { width: 640, height: 512 },
        output_format: 'webp',
      };
      const { queued, completed, result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', input);
      expect(completed.status).toBe(200);
      expect(completed.body.metrics.inference_time).toEqual(expect.any(Number));
      expect(completed.body.error).toBeUndefined();
      expect(result.status).toBe(200);
      expect(result.headers.get('x-fal-request-id')).toBe(queued.request_id);
      expect(result.headers.get('content-type')).toContain('application/json');
      expect(result.body).toMatchObject({
        seed: expect.any(Number),
        has_nsfw_concepts: [false],
        prompt: 'a lighthouse',
        timings: { inference: expect.any(Number) },
      });
      const [image] = result.body.images;
      expect(image).toMatchObject({ width: 640, height: 512, content_type: 'image/webp' });
      const file = await download(image.url);
      expect(file.status).toBe(200);
      expect(file.type).toBe('image/webp');
      expect(file.bytes.length).toBe(image.file_size);
      const meta = await sharp(file.bytes).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([640, 512, 'webp']);
    });

    it('applies fal defaults: landscape_4_3 png for text-to-image, square_hd for edits', async () => {
      const t2i = await submitAndWait(sim, 'fal-ai/flux-2/flash', { prompt: 'p', seed: 1 });
      expect(t2i.result.body.images[0]).toMatchObject({
        width: 1024,
        height: 768,
        content_type: 'image/png',
      });
      const source = t2i.result.body.images[0].url;
      const edit = await submitAndWait(sim, 'fal-ai/flux-2/flash/edit', {
        prompt: 'p',
        image_urls: [source],
      });
      expect(edit.result.body.images[0]).toMatchObject({ width: 1024, height: 1024 });
    });

    it('makes byte-identical images for the same prompt and seed, and different ones for another seed', async () => {
      const input = { prompt: 'same', seed: 1234, image_size: 'square', num_images: 2 };
      const [a, b, c] = await Promise.all([
        submitAndWait(sim, 'fal-ai/flux-2/turbo', input),
        submitAndWait(sim, 'fal-ai/flux-2/turbo', input),
        submitAndWait(sim, 'fal-ai/flux-2/turbo', { ...input, seed: 1235 }),
      ]);
      const bytes = async (r: typeof a) =>
        Promise.all(r.result.body.images.map((i: { url: string }) => download(i.url)));
      const [aa, bb, cc] = await Promise.all([bytes(a), bytes(b), bytes(c)]);
      expect(a.result.body.seed).toBe(1234);
      expect(aa[0].bytes.equals(bb[0].bytes)).toBe(true);
      expect(aa[1].bytes.equals(bb[1].bytes)).toBe(true);
      expect(aa[0].bytes.equals(aa[1].bytes)).toBe(false);
      expect(aa[0].bytes.equals(cc[0].bytes)).toBe(false);
    });

    it('returns an edit that has the requested size and differs from its input', async () => {
      const source = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3366cc' } })
        .png()
        .toBuffer();
      const dataUri = `data:image/png;base64,${source.toString('base64')}`;
      const { result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo/edit', {
        prompt: 'make it sunset',
        image_urls: [dataUri],
        image_size: 'square',
        output_format: 'jpeg',
      });
      expect(result.status).toBe(200);
      const file = await download(result.body.images[0].url);
      const out = await sharp(file.bytes).metadata();
      expect([out.width, out.height, out.format]).toEqual([512, 512, 'jpeg']);
      const resizedInput = await sharp(source).resize(512, 512, { fit: 'cover' }).raw().toBuffer();
      const outputPixels = await sharp(file.bytes).raw().toBuffer();
      expect(meanAbsDiff(resizedInput, outputPixels)).toBeGreaterThan(20);
    });

    it('returns data URIs instead of CDN URLs with sync_mode', async () => {
      const { result } = await submitAndWait(sim, 'fal-ai/flux-2/flash', {
        prompt: 'p',
        image_size: 'square',
        sync_mode: true,
      });
      const url: string = result.body.images[0].url;
      expect(url.startsWith('data:image/png;base64,')).toBe(true);
      const meta = await sharp(Buffer.from(url.split(',')[1]!, 'base64')).metadata();
      expect(meta.width).toBe(512);
    });
  });

  describe('when the input is invalid', () => {
    it('accepts the submit, goes COMPLETED with error fields, and answers 422 only in the result', async () => {
      const { queued, completed, result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', {
        num_images: 9,
      });
      expect(queued.status).toBe('IN_QUEUE');
      expect(completed.status).toBe(200);
      expect(completed.body).toMatchObject({
        status: 'COMPLETED',
        error: expect.any(String),
        error_type: 'validation_error',
      });
      expect(result.status).toBe(422);
      expect(result.headers.get('x-fal-request-id')).toBe(queued.request_id);
      expect(result.body.detail).toEqual(
        expect.arrayContaining([
          { loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' },
          expect.objectContaining({ loc: ['body', 'num_images'], type: 'less_than_equal' }),
        ]),
      );
    });

    it('answers 422 on image_urls when an input image cannot be read', async () => {
      const { result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo/edit', {
        prompt: 'p',
        image_urls: [`${sim.url}/files/00000000-0000-0000-0000-000000000000/missing.png`],
      });
      expect(result.status).toBe(422);
      expect(result.body.detail[0].loc).toEqual(['body', 'image_urls']);
    });
    it('answers 422 on image_urls when an input image is truncated', async () => {
      const png = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#123456' } })
        .png()
        .toBuffer();
      const truncated = png.subarray(0, png.length - 100).toString('base64');
      const { completed, result } = await submitAndWait(sim, 'fal-ai/flux-2/flash/edit', {
        prompt: 'p',
        image_urls: [`data:image/png;base64,${truncated}`],
      });
      expect(completed.body.error_type).toBe('validation_error');
      expect(result.status).toBe(422);
      expect(result.body.detail[0].loc).toEqual(['body', 'image_urls']);
    });
  });

  describe('when status, result or cancel are addressed', () => {
    it('answers 404 for an unknown id and for the full endpoint path instead of owner/app', async () => {
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', { prompt: 'p', image_size: 'square' });
      const unknown = await call(
        `${sim.url}/fal-ai/flux-2/requests/00000000-0000-0000-0000-000000000000/status`,
      );
      expect(unknown.status).toBe(404);
      const fullPath = await call(`${sim.url}/fal-ai/flux-2/turbo/requests/${body.request_id}/status`);
      expect(fullPath.status).toBe(404);
      const otherApp = await call(`${sim.url}/fal-ai/other/requests/${body.request_id}`);
      expect(otherApp.status).toBe(404);
    });

    it('returns logs only when asked with logs=1', async () => {
      const { queued } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', {
        prompt: 'p',
        image_size: 'square',
      });
      const plain = await call(queued.status_url);
      expect(plain.body.logs).toBeNull();
      const withLogs = await call(`${queued.status_url}?logs=1`);
      expect(withLogs.body.logs).toEqual(
        expect.arrayContaining([expect.objectContaining({ message: 'Request completed', level: 'INFO' })]),
      );
    });

    it('streams status events over SSE until COMPLETED', async () => {
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', { prompt: 'p', image_size: 'square' });
      const response = await fetch(`${body.status_url}/stream`, { headers: AUTH });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const events = (await response.text())
        .split('\n\n')
        .filter((chunk) => chunk.startsWith('data: '))
        .map((chunk) => JSON.parse(chunk.slice(6)));
      expect(events.at(-1)).toMatchObject({ status: 'COMPLETED', request_id: body.request_id });
      await waitForStatus(body.status_url, 'COMPLETED');
    });
  });
});

function meanAbsDiff(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
