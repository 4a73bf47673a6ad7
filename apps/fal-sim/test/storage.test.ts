import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { call, download, startSim, submitAndWait } from './helpers.js';

async function initiate(sim: FalSim, body: unknown, headers: Record<string, string> = {}) {
  return call(`${sim.url}/storage/upload/initiate?storage_type=fal-cdn-v3`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('storage and CDN', () => {
  let sim: FalSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());

  describe('when a file goes through the upload handshake', () => {
    it('returns sim URLs, stores the PUT bytes and serves them with their content type', async () => {
      const bytes = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#ff0000' } })
        .png()
        .toBuffer();
      const { status, body } = await initiate(sim, { content_type: 'image/png', file_name: 'red.png' });
      expect(status).toBe(200);
      expect(body.upload_url.startsWith(sim.url)).toBe(true);
      expect(body.file_url).toMatch(new RegExp(`^${sim.url}/files/[0-9a-f-]{36}/red\\.png$`));
      expect((await download(body.file_url)).status).toBe(404);

      const put = await fetch(body.upload_url, {
        method: 'PUT',
        body: bytes,
        headers: { 'content-type': 'image/png' },
      });
      expect(put.status).toBe(200);
      const file = await download(body.file_url);
      expect(file).toMatchObject({ status: 200, type: 'image/png' });
      expect(file.bytes.equals(bytes)).toBe(true);
      expect(sim.stats().uploads).toBe(1);
    });

    it('lets an edit read an uploaded file by its CDN URL', async () => {
      const bytes = await sharp({ create: { width: 80, height: 80, channels: 3, background: '#00ff00' } })
        .png()
        .toBuffer();
      const { body } = await initiate(sim, { content_type: 'image/png', file_name: 'g.png' });
      await fetch(body.upload_url, { method: 'PUT', body: bytes });
      const { result } = await submitAndWait(sim, 'fal-ai/flux-2/flash/edit', {
        prompt: 'p',
        image_urls: [body.file_url],
        image_size: 'square',
      });
      expect(result.status).toBe(200);
    });

    it('answers 401 without a key and 404 for a PUT to an unknown upload URL', async () => {
      const response = await fetch(`${sim.url}/storage/upload/initiate`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(401);
      const put = await fetch(`${sim.url}/storage/upload/00000000-0000-0000-0000-000000000000`, {
        method: 'PUT',
        body: 'x',
      });
      expect(put.status).toBe(404);
    });
  });

  describe('when files outlive their lifetime', () => {
    it('answers 404 once an output has expired', async () => {
      let now = 1_000_000;
      const short = await startSim({ fileTtlMs: 10_000, now: () => now });
      try {
        const { result } = await submitAndWait(short, 'fal-ai/flux-2/turbo', {
          prompt: 'p',
          image_size: 'square',
        });
        const url = result.body.images[0].url;
        expect((await download(url)).status).toBe(200);
        now += 10_001;
        expect((await download(url)).status).toBe(404);
      } finally {
        await short.close();
      }
    });

    it('honours expiration_duration_seconds from X-Fal-Object-Lifecycle on upload', async () => {
      let now = 1_000_000;
      const other = await startSim({ now: () => now });
      try {
        const { body } = await initiate(
          other,
          { content_type: 'text/plain', file_name: 'a.txt' },
          { 'X-Fal-Object-Lifecycle': JSON.stringify({ expiration_duration_seconds: 5 }) },
        );
        await fetch(body.upload_url, { method: 'PUT', body: 'hello' });
        expect((await download(body.file_url)).bytes.toString()).toBe('hello');
        now += 5_001;
        expect((await download(body.file_url)).status).toBe(404);
      } finally {
        await other.close();
      }
    });
  });
});

describe('when the CDN byte budget is exceeded', () => {
  it('drops the oldest files first and keeps serving the newest', async () => {
    const sim = await startSim({ maxStoredBytes: 10 });
    try {
      const urls: string[] = [];
      for (const text of ['aaaaaa', 'bbbbbb']) {
        const { body } = await initiate(sim, { content_type: 'text/plain', file_name: 'f.txt' });
        await fetch(body.upload_url, { method: 'PUT', body: text });
        urls.push(body.file_url);
      }
      expect((await download(urls[0]!)).status).toBe(404);
      expect((await download(urls[1]!)).bytes.toString()).toBe('bbbbbb');
    } finally {
      await sim.close();
    }
  });
});
