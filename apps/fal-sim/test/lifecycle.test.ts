import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { call, startSim, submit, waitFor, waitForStatus } from './helpers.js';

const SMALL = { prompt: 'p', image_size: 'square' };

describe('request lifecycle', () => {
  let sim: FalSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.reset();
    sim.configure({ maxConcurrency: null });
  });

  describe('when the account concurrency limit is reached', () => {
    it('keeps the rest IN_QUEUE with positions and starts them in FIFO order as slots free', async () => {
      sim.configure({ maxConcurrency: 1 });
      sim.setFaults([{ on: 'outcome', hang: true }]);
      const held = (await submit(sim, 'fal-ai/flux-2/turbo', SMALL)).body;
      const running = await waitForStatus(held.status_url, 'IN_PROGRESS');
      expect(running.status).toBe(202);
      expect(running.body.queue_position).toBeUndefined();

      const second = (await submit(sim, 'fal-ai/flux-2/turbo', SMALL)).body;
      const third = (await submit(sim, 'fal-ai/flux-2/flash', SMALL)).body;
      expect(third.queue_position).toBe(1);
      const queued = await waitForStatus(second.status_url, 'IN_QUEUE');
      expect(queued.status).toBe(202);
      expect(queued.body.queue_position).toBe(0);
      expect((await call(third.status_url)).body.queue_position).toBe(1);
      expect(sim.stats()).toMatchObject({ queued: 2, inProgress: 1 });

      expect((await call(held.cancel_url, { method: 'PUT' })).status).toBe(202);
      await waitForStatus(third.status_url, 'COMPLETED');
      const [s2, s3] = await Promise.all([
        call(`${second.status_url}?logs=1`),
        call(`${third.status_url}?logs=1`),
      ]);
      const startedAt = (s: typeof s2) =>
        s.body.logs.find((l: { message: string }) => l.message.startsWith('Runner acquired')).timestamp;
      expect(startedAt(s2) <= startedAt(s3)).toBe(true);
      expect(sim.stats().peakInProgress).toBe(1);
    });

    it('never runs more than the limit at once under a burst', async () => {
      sim.configure({ maxConcurrency: 3, timeScale: 0.0005 });
      try {
        const envelopes = await Promise.all(
          Array.from({ length: 12 }, () => submit(sim, 'fal-ai/flux-2/turbo', SMALL).then((r) => r.body)),
        );
        await Promise.all(envelopes.map((e) => waitForStatus(e.status_url, 'COMPLETED')));
        expect(sim.stats()).toMatchObject({
          peakInProgress: 3,
          completed: 12,
          billed: 12,
          queued: 0,
          inProgress: 0,
        });
      } finally {
        sim.configure({ timeScale: 0 });
      }
    });

    it('ends a request still queued past X-Fal-Request-Timeout with a user-timeout 504', async () => {
      sim.configure({ maxConcurrency: 0 });
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', SMALL, { 'X-Fal-Request-Timeout': '0.05' });
      const completed = await waitForStatus(body.status_url, 'COMPLETED');
      expect(completed.body).toMatchObject({ error_type: 'request_timeout', error: expect.any(String) });
      const result = await call(body.response_url);
      expect(result.status).toBe(504);
      expect(result.headers.get('x-fal-request-timeout-type')).toBe('user');
      expect(result.headers.get('x-fal-error-type')).toBe('request_timeout');
      expect(result.body).toEqual({ detail: 'Request timed out', error_type: 'request_timeout' });
      expect(sim.stats().billed).toBe(0);
    });
  });

  describe('billing', () => {
    it('charges a request that ran and failed with a 422, never one that failed with a server error', async () => {
      sim.setFaults([
        { on: 'outcome', status: 503 },
        { on: 'outcome', status: 500 },
        { on: 'outcome', status: 422, body: { detail: [{ msg: 'bad prompt' }] } },
      ]);
      const envelopes = await Promise.all([0, 1, 2, 3].map(() => submit(sim, 'fal-ai/flux-2/turbo', SMALL)));
      await Promise.all(envelopes.map(({ body }) => waitForStatus(body.status_url, 'COMPLETED')));
      // All four reached a runner; the 503 and the 500 are free, the 422 and the success are charged.
      expect(sim.stats()).toMatchObject({ ran: 4, billed: 2, completed: 1, failed: 3 });
    });
  });

  describe('when a request is cancelled', () => {
    it('removes a queued request so it never runs and is not billed', async () => {
      sim.configure({ maxConcurrency: 0 });
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      const cancel = await call(body.cancel_url, { method: 'PUT' });
      expect(cancel).toMatchObject({ status: 202, body: { status: 'CANCELLATION_REQUESTED' } });
      sim.configure({ maxConcurrency: null });
      const completed = await waitForStatus(body.status_url, 'COMPLETED');
      expect(completed.body.error_type).toBe('request_cancelled');
      expect(sim.stats()).toMatchObject({ billed: 0, cancels: 1, completed: 0, failed: 1 });
    });

    it('stops an in-progress request and its result becomes a 400 error', async () => {
      sim.setFaults([{ on: 'outcome', hang: true }]);
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      await waitForStatus(body.status_url, 'IN_PROGRESS');
      expect((await call(body.response_url)).body).toEqual({ detail: 'Request is still in progress' });
      expect((await call(body.cancel_url, { method: 'PUT' })).status).toBe(202);
      const result = await call(body.response_url);
      expect(result.status).toBe(400);
      expect(result.body.error_type).toBe('request_cancelled');
      expect(sim.stats()).toMatchObject({ billed: 1, inProgress: 0 });
    });

    it('answers 400 ALREADY_COMPLETED when done and 404 NOT_FOUND when unknown', async () => {
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      await waitForStatus(body.status_url, 'COMPLETED');
      expect(await call(body.cancel_url, { method: 'PUT' })).toMatchObject({
        status: 400,
        body: { status: 'ALREADY_COMPLETED' },
      });
      const unknown = await call(`${sim.url}/fal-ai/flux-2/requests/nope/cancel`, { method: 'PUT' });
      expect(unknown).toMatchObject({ status: 404, body: { status: 'NOT_FOUND' } });
      expect(sim.stats().cancels).toBe(0);
    });
  });

  describe('when failures are drawn from the failure rate', () => {
    it('ends every request in an infrastructure error with a matching X-Fal-Error-Type at rate 1', async () => {
      sim.setFailureRate('fal-ai/flux-2/flash', 1);
      try {
        const { body } = await submit(sim, 'fal-ai/flux-2/flash', SMALL);
        const completed = await waitForStatus(body.status_url, 'COMPLETED');
        const result = await call(body.response_url);
        expect([500, 503, 504]).toContain(result.status);
        expect(result.body.error_type).toEqual(expect.any(String));
        expect(result.headers.get('x-fal-error-type')).toBe(result.body.error_type);
        expect(completed.body.error_type).toBe(result.body.error_type);
        const other = (await submit(sim, 'fal-ai/flux-2/turbo', SMALL)).body;
        await waitForStatus(other.status_url, 'COMPLETED');
        expect((await call(other.response_url)).status).toBe(200);
      } finally {
        sim.setFailureRate('*', 0);
      }
    });
  });

  describe('when stats are read and reset', () => {
    it('counts submits per endpoint, calls, completions, and zeroes them on reset', async () => {
      const { body } = await submit(sim, 'fal-ai/flux-2/turbo', SMALL);
      await submit(sim, 'fal-ai/flux-2/flash', SMALL);
      await waitFor(() => (sim.stats().completed === 2 ? true : undefined));
      await call(body.response_url);
      const stats = sim.stats();
      expect(stats).toMatchObject({
        submits: 2,
        submitsByEndpoint: { 'fal-ai/flux-2/turbo': 1, 'fal-ai/flux-2/flash': 1 },
        resultCalls: 1,
        completed: 2,
        failed: 0,
        billed: 2,
      });
      sim.reset();
      expect(sim.stats()).toMatchObject({ submits: 0, submitsByEndpoint: {}, completed: 0, billed: 0 });
      expect((await call(body.status_url)).status).toBe(404);
    });
  });
});
