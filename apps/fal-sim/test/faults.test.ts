import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { AUTH, call, download, startSim, submit, submitAndWait, waitForStatus } from './helpers.js';

const SMALL = { prompt: 'p', image_size: 'square' };

describe('fault injection', () => {
  let sim: FalSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  describe('when a submit fault is set', () => {
    it('answers 429 with Retry-After once, then accepts the retry', async () => {
      sim.setFaults([{ on: 'submit', status: 429 }]);
      const limited = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.headers.get('content-type')).toContain('application/json');
      const accepted = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      expect(accepted.status).toBe(200);
      expect(sim.stats()).toMatchObject({ submits: 1, faultsFired: 1 });
    });

    it('answers 503 the given number of times and only for the named endpoint', async () => {
      sim.setFaults([{ on: 'submit', status: 503, times: 2, endpoint: 'fal-ai/flux-2/flash' }]);
      expect((await submit(sim, 'fal-ai/flux-2/turbo', SMALL)).status).toBe(200);
      expect((await submit(sim, 'fal-ai/flux-2/flash', SMALL)).status).toBe(503);
      const second = await submit(sim, 'fal-ai/flux-2/flash', SMALL);
      expect(second.status).toBe(503);
      expect(second.body).toEqual({ detail: 'Service unavailable', error_type: 'runner_disconnected' });
      expect((await submit(sim, 'fal-ai/flux-2/flash', SMALL)).status).toBe(200);
    });

    it('answers a truncated JSON body under a JSON content type when malformed', async () => {
      sim.setFaults([{ on: 'submit', malformed: true }]);
      const response = await fetch(`${sim.url}/fal-ai/flux-2/turbo`, {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify(SMALL),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/json');
      await expect(response.json()).rejects.toThrow();
    });

    it('closes the connection without an answer when resetting, then serves the next call', async () => {
      sim.setFaults([{ on: 'status', reset: true }]);
      const accepted = (await submit(sim, 'fal-ai/flux-2/turbo', SMALL)).body as { status_url: string };
      await expect(fetch(accepted.status_url, { headers: AUTH })).rejects.toThrow(/fetch failed/);
      expect((await fetch(accepted.status_url, { headers: AUTH })).status).toBeLessThan(300);
      expect(sim.stats()).toMatchObject({ submits: 1, faultsFired: 1 });
    });

    it('holds the call open until the client gives up when hanging', async () => {
      sim.setFaults([{ on: 'submit', hang: true }]);
      const pending = fetch(`${sim.url}/fal-ai/flux-2/turbo`, {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify(SMALL),
        signal: AbortSignal.timeout(100),
      });
      await expect(pending).rejects.toThrow(/abort|timeout/i);
      expect(sim.stats().submits).toBe(0);
    });
  });

  describe('when a status, result or CDN fault is set', () => {
    it('fails one status poll with 500 and then answers normally', async () => {
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      sim.setFaults([{ on: 'status', status: 500 }]);
      expect((await call(body.status_url)).status).toBe(500);
      expect((await waitForStatus(body.status_url, 'COMPLETED')).status).toBe(200);
    });

    it('answers the result call with the fault, leaving the stored result intact', async () => {
      const { queued } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', SMALL);
      sim.setFaults([{ on: 'result', status: 502, body: { detail: 'Bad gateway' } }]);
      expect(await call(queued.response_url)).toMatchObject({ status: 502, body: { detail: 'Bad gateway' } });
      expect((await call(queued.response_url)).status).toBe(200);
    });

    it('slows a CDN download by delayMs and still serves the file', async () => {
      const { result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', SMALL);
      sim.setFaults([{ on: 'cdn', delayMs: 60 }]);
      const started = performance.now();
      const file = await download(result.body.images[0].url);
      expect(performance.now() - started).toBeGreaterThanOrEqual(55);
      expect(file.status).toBe(200);
    });
  });

  describe('when an outcome fault is set', () => {
    it('ends the next request with a user-timeout 504 seen in its result and status', async () => {
      sim.setFaults([{ on: 'outcome', status: 504, headers: { 'X-Fal-Request-Timeout-Type': 'user' } }]);
      const { completed, result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', SMALL);
      expect(completed.body).toMatchObject({ error: 'Request timed out', error_type: 'request_timeout' });
      expect(result.status).toBe(504);
      expect(result.headers.get('x-fal-request-timeout-type')).toBe('user');
      expect(result.body).toEqual({ detail: 'Request timed out', error_type: 'request_timeout' });
      expect((await submitAndWait(sim, 'fal-ai/flux-2/turbo', SMALL)).result.status).toBe(200);
    });

    it('ends the request with the given 422 detail array', async () => {
      const detail = [{ loc: ['body', 'image_urls'], msg: 'Image too large', type: 'image_too_large' }];
      sim.setFaults([{ on: 'outcome', status: 422, body: { detail } }]);
      const { completed, result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', SMALL);
      expect(result).toMatchObject({ status: 422, body: { detail } });
      expect(completed.body.error).toEqual(expect.any(String));
    });

    it('ends with a 503 runner error whose type is in the body and X-Fal-Error-Type', async () => {
      sim.setFaults([{ on: 'outcome', status: 503 }]);
      const { completed, result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', SMALL);
      expect(result.status).toBe(503);
      expect(result.headers.get('x-fal-error-type')).toBe('runner_disconnected');
      expect(completed.body.error_type).toBe('runner_disconnected');
    });

    it('returns black images flagged in has_nsfw_concepts when nsfw', async () => {
      sim.setFaults([{ on: 'outcome', nsfw: true }]);
      const { result } = await submitAndWait(sim, 'fal-ai/flux-2/turbo', { ...SMALL, num_images: 2 });
      expect(result.body.has_nsfw_concepts).toEqual([true, true]);
      const file = await download(result.body.images[0].url);
      const { channels } = await sharp(file.bytes).stats();
      expect(channels.every((c) => c.max === 0)).toBe(true);
    });

    it('keeps the request IN_PROGRESS for delayMs whatever the time scale', async () => {
      sim.setFaults([{ on: 'outcome', delayMs: 80 }]);
      const started = performance.now();
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      expect((await waitForStatus(body.status_url, 'IN_PROGRESS')).status).toBe(202);
      await waitForStatus(body.status_url, 'COMPLETED');
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    });
  });

  describe('when faults are driven over HTTP', () => {
    it('sets, lists and clears rules through /__sim/faults and rejects bad ones', async () => {
      const set = await fetch(`${sim.url}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          rules: [{ on: 'submit', status: 429, times: -1, headers: { 'Retry-After': '7' } }],
        }),
      });
      expect(set.status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const limited = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
        expect(limited.status).toBe(429);
        expect(limited.headers.get('retry-after')).toBe('7');
      }
      const listed = (await call(`${sim.url}/__sim/faults`)).body;
      expect(listed.rules).toEqual([expect.objectContaining({ on: 'submit', times: -1 })]);
      const bad = await fetch(`${sim.url}/__sim/faults`, {
        method: 'POST',
        body: JSON.stringify([{ on: 'everything', status: 500 }]),
      });
      expect(bad.status).toBe(400);
      await fetch(`${sim.url}/__sim/reset`, { method: 'POST' });
      expect((await submit(sim, 'fal-ai/flux-2/turbo', SMALL)).status).toBe(200);
    });
  });
});
