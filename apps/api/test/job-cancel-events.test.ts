import { readServerSentEvents, waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, type TenantClient, tenantClient } from './tenant-client.js';

// No worker runs here: jobs stay queued until a test moves them.
let api: ApiHarness;
let a: TenantClient;
let b: TenantClient;

beforeAll(async () => {
  api = await startApi({ API_KEYS: 'fq_ka:tenantA,fq_kb:tenantB' });
  a = tenantClient(api.url, 'fq_ka');
  b = tenantClient(api.url, 'fq_kb');
});
afterAll(async () => api?.close());

const submit = async () => {
  const response = await a.post('/v1/jobs', { prompt: 'p' });
  expect(response.status).toBe(202);
  return response.body.id as string;
};

describe('POST /v1/jobs/{id}/cancel', () => {
  describe('when the job is queued', () => {
    it('marks it canceled and takes it out of the queue', async () => {
      const id = await submit();
      expect(await api.deps.queue.getJob(id)).toBeDefined();
      const response = await a.post(`/v1/jobs/${id}/cancel`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id,
        object: 'job',
        status: 'canceled',
        error: { code: 'canceled' },
        output: null,
      });
      expect(response.body.completed_at).toBeGreaterThan(0);
      expect(await api.deps.queue.getJob(id)).toBeUndefined();
      expect((await a.get(`/v1/jobs/${id}`)).body.status).toBe('canceled');
    });
  });

  describe('when the job is running', () => {
    it('marks it canceled, for its worker to stop at its next poll', async () => {
      const id = await submit();
      await api.deps.store.update(id, { status: 'running', started_at: 1 });
      const response = await a.post(`/v1/jobs/${id}/cancel`);
      expect(response.body).toMatchObject({ status: 'canceled', started_at: 1 });
      expect(await api.deps.store.status(id)).toBe('canceled');
    });
  });

  describe('when the job has already ended', () => {
    it.each(['succeeded', 'failed', 'canceled'] as const)('returns a %s job unchanged', async (status) => {
      const id = await submit();
      await api.deps.store.update(id, { status, completed_at: 123 });
      const before = (await a.get(`/v1/jobs/${id}`)).body;
      const response = await a.post(`/v1/jobs/${id}/cancel`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ...before, input: expect.anything() });
      expect(response.body.status).toBe(status);
    });
  });

  describe("when the job is another tenant's or unknown", () => {
    it('answers 404 and leaves the job alone', async () => {
      const id = await submit();
      const theirs = await b.post(`/v1/jobs/${id}/cancel`);
      expect(theirs.status).toBe(404);
      expect((theirs.body as ErrorBody).error.code).toBe('job_not_found');
      expect(await api.deps.store.status(id)).toBe('queued');
      expect((await a.post('/v1/jobs/job_0000000000000000000000000/cancel')).status).toBe(404);
    });
  });
});

describe('GET /v1/jobs/{id}/events', () => {
  it('sends the job now, then each status change, and ends after a terminal one', async () => {
    const id = await submit();
    const response = await a.fetch(`/v1/jobs/${id}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = readServerSentEvents(response.body!);

    const first = (await events.next()).value!;
    expect(first.event).toBe('job.queued');
    expect(JSON.parse(first.data)).toMatchObject({ id, object: 'job', status: 'queued' });

    await api.deps.store.update(id, { status: 'running' }, { ifStatusIn: ['queued'] });
    const running = (await events.next()).value!;
    expect(running.event).toBe('job.running');
    expect(JSON.parse(running.data).status).toBe('running');

    await a.post(`/v1/jobs/${id}/cancel`);
    const canceled = (await events.next()).value!;
    expect(canceled.event).toBe('job.canceled');
    expect(JSON.parse(canceled.data)).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
    expect((await events.next()).done).toBe(true);
  });

  it('sends one event and ends for a job that has already ended', async () => {
    const id = await submit();
    await a.post(`/v1/jobs/${id}/cancel`);
    const response = await a.fetch(`/v1/jobs/${id}/events`);
    const all = [];
    for await (const event of readServerSentEvents(response.body!)) all.push(event.event);
    expect(all).toEqual(['job.canceled']);
  });

  it('stops listening when the client goes away', async () => {
    const events = api.deps.events;
    const on = events.on;
    let listening = 0;
    events.on = (jobId, listener) => {
      listening += 1;
      const off = on(jobId, listener);
      return () => {
        listening -= 1;
        off();
      };
    };
    try {
      const id = await submit();
      const abort = new AbortController();
      const response = await a.fetch(`/v1/jobs/${id}/events`, { signal: abort.signal });
      const stream = readServerSentEvents(response.body!);
      expect((await stream.next()).value?.event).toBe('job.queued');
      expect(listening).toBe(1);
      abort.abort();
      await waitFor(() => listening === 0, { message: 'the listener to be removed' });
    } finally {
      events.on = on;
    }
  });

  it("answers 404 (not a stream) for another tenant's job", async () => {
    const id = await submit();
    const response = await b.get(`/v1/jobs/${id}/events`);
    expect(response.status).toBe(404);
    expect((response.body as ErrorBody).error.code).toBe('job_not_found');
  });
});
