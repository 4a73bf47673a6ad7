import { ApiError, createFalClient, type FalClient, ValidationError } from '@fal-ai/client';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { download, startSim, waitFor } from './helpers.js';

const FAL_HOSTS = /^https:\/\/(queue\.fal\.run|fal\.run|rest\.fal\.ai)/;
const SMALL = { prompt: 'a red fox', image_size: 'square' as const };

interface Output {
  images: { url: string; width: number; height: number; content_type: string }[];
  seed: number;
  has_nsfw_concepts: boolean[];
}

/** The official client, unchanged except that fal's hosts point at the sim (fal.md §4.7). */
function clientFor(sim: FalSim): FalClient {
  return createFalClient({
    credentials: 'test-key',
    suppressLocalCredentialsWarning: true,
    requestMiddleware: async (request) => ({ ...request, url: request.url.replace(FAL_HOSTS, sim.url) }),
  });
}

async function pngBlob(colour: string): Promise<Blob> {
  const bytes = await sharp({ create: { width: 96, height: 64, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return new Blob([new Uint8Array(bytes)], { type: 'image/png' });
}

describe('@fal-ai/client against the sim', () => {
  let sim: FalSim;
  let fal: FalClient;
  beforeAll(async () => {
    sim = await startSim();
    fal = clientFor(sim);
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  describe('when subscribing', () => {
    it('returns the output and the request id it was enqueued with', async () => {
      let enqueued = '';
      const updates: string[] = [];
      const result = await fal.subscribe('fal-ai/flux-2/turbo', {
        input: { ...SMALL, seed: 42 },
        pollInterval: 10,
        onEnqueue: (id) => {
          enqueued = id;
        },
        onQueueUpdate: (update) => {
          updates.push(update.status);
        },
      });
      const data = result.data as Output;
      expect(result.requestId).toBe(enqueued);
      expect(data.seed).toBe(42);
      expect(updates.at(-1)).toBe('COMPLETED');
      const file = await download(data.images[0]!.url);
      expect((await sharp(file.bytes).metadata()).width).toBe(512);
    });

    it('runs an edit on an image uploaded with storage.upload', async () => {
      const url = await fal.storage.upload(await pngBlob('#2244aa'));
      expect(url.startsWith(`${sim.url}/files/`)).toBe(true);
      const result = await fal.subscribe('fal-ai/flux-2/turbo/edit', {
        input: { ...SMALL, image_urls: [url], output_format: 'jpeg' },
        pollInterval: 10,
      });
      const data = result.data as Output;
      expect(data.images[0]).toMatchObject({ width: 512, height: 512, content_type: 'image/jpeg' });
      expect(sim.stats()).toMatchObject({ uploads: 1, submitsByEndpoint: { 'fal-ai/flux-2/turbo/edit': 1 } });
    });

    it('uploads a Blob placed in the input before submitting', async () => {
      const result = await fal.subscribe('fal-ai/flux-2/flash/edit', {
        input: { ...SMALL, image_urls: [await pngBlob('#aa2244')] } as never,
        pollInterval: 10,
      });
      expect((result.data as Output).images).toHaveLength(1);
      expect(sim.stats().uploads).toBe(1);
    });

    it('works in streaming mode over the status SSE stream', async () => {
      const result = await fal.subscribe('fal-ai/flux-2/flash', { input: SMALL, mode: 'streaming' });
      expect((result.data as Output).images).toHaveLength(1);
    });

    it('throws a ValidationError with field errors for a 422 result', async () => {
      const error = await fal
        .subscribe('fal-ai/flux-2/turbo', { input: { image_size: 'square' } as never, pollInterval: 10 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).getFieldErrors('prompt')).toHaveLength(1);
    });

    it('throws a user-timeout ApiError for a 504 with X-Fal-Request-Timeout-Type: user', async () => {
      sim.setFaults([{ on: 'outcome', status: 504, headers: { 'X-Fal-Request-Timeout-Type': 'user' } }]);
      const error = await fal
        .subscribe('fal-ai/flux-2/turbo', { input: SMALL, pollInterval: 10 })
        .catch((e) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError<unknown>).isUserTimeout).toBe(true);
      expect(sim.stats().resultCalls).toBe(1);
    });
  });

  describe('when using the queue API directly', () => {
    it('submits, polls status, and fetches the result', async () => {
      const queued = await fal.queue.submit('fal-ai/flux-2/flash', { input: SMALL });
      expect(queued.status_url).toBe(`${sim.url}/fal-ai/flux-2/requests/${queued.request_id}/status`);
      const done = await waitFor(async () => {
        const status = await fal.queue.status('fal-ai/flux-2/flash', {
          requestId: queued.request_id,
          logs: true,
        });
        return status.status === 'COMPLETED' ? status : undefined;
      });
      expect(done.logs?.length).toBeGreaterThan(0);
      const result = await fal.queue.result('fal-ai/flux-2/flash', { requestId: queued.request_id });
      expect(result.requestId).toBe(queued.request_id);
      expect((result.data as Output).has_nsfw_concepts).toEqual([false]);
    });

    it('cancels an in-progress request through the sub-path endpoint id', async () => {
      sim.setFaults([{ on: 'outcome', hang: true }]);
      const queued = await fal.queue.submit('fal-ai/flux-2/turbo/edit', {
        input: { ...SMALL, image_urls: ['data:,x'] },
      });
      await waitFor(async () => {
        const status = await fal.queue.status('fal-ai/flux-2/turbo/edit', { requestId: queued.request_id });
        return status.status === 'IN_PROGRESS' ? true : undefined;
      });
      await fal.queue.cancel('fal-ai/flux-2/turbo/edit', { requestId: queued.request_id });
      expect(sim.stats().cancels).toBe(1);
      const error = await fal.queue
        .result('fal-ai/flux-2/turbo/edit', { requestId: queued.request_id })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError<unknown>).status).toBe(400);
      expect((error as ApiError<unknown>).requestId).toBe(queued.request_id);
    });
  });

  describe('when uploading with storage.upload', () => {
    it('PUTs the bytes straight to the sim upload URL and serves them back', async () => {
      const blob = new Blob(['hello fal'], { type: 'text/plain' });
      const url = await fal.storage.upload(blob);
      const file = await download(url);
      expect(file).toMatchObject({ status: 200, type: 'text/plain' });
      expect(file.bytes.toString()).toBe('hello fal');
    });
  });
});
