import { verifyWebhook } from '@fluxq/sdk';
import { type ReceivedRequest, startWebhookReceiver, type WebhookReceiver, waitFor } from '@fluxq/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadImage, getJob, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/** The retry schedule (5 s, 5 min, 30 min, 2 h, …) × 0.0002: 1 ms, 60 ms, 360 ms, 1.4 s, … */
const SCHEDULE_SCALE = '0.0002';

interface Delivery {
  id: string;
  status: string;
  event_id: string;
  type: string;
  attempts: Array<{ status_code: number | null; error: string | null }>;
  failure_reason: string | null;
}

describe('webhook deliveries, end to end', () => {
  let stack: Stack;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        WEBHOOK_SCHEDULE_SCALE: SCHEDULE_SCALE,
        WEBHOOK_TIMEOUT_MS: '500',
        HEDGE_PRIORITIES: 'none',
      },
    });
  });
  afterAll(async () => stack?.close());
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.stop()));
  });

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...init.headers },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const secret = async () => (await api('/v1/webhooks/secret')).body.secret as string;
  const deliveriesOf = async (jobId: string) =>
    (await api(`/v1/webhooks/deliveries?job_id=${jobId}`)).body.data as Delivery[];
  const receiver = async (options?: { listening?: boolean }) => {
    const started = await startWebhookReceiver(options);
    receivers.push(started);
    return started;
  };
  const jobWithWebhook = (url: string, extra: Record<string, unknown> = {}) =>
    submitJob(stack.apiUrl, {
      model: 'flux.2-dev-turbo',
      prompt: 'a kite',
      webhook_url: `${url}/hooks`,
      ...extra,
    });
  const verifiedBoth = (request: ReceivedRequest, key: string) => {
    const reference = new Webhook(key).verify(request.body, request.headers) as { type: string };
    const ours = verifyWebhook(request.headers, request.body, key);
    expect(ours.type).toBe(reference.type);
    return ours as { type: string; timestamp: string; data: Record<string, unknown> };
  };

  it('signs every delivery so the standardwebhooks package and our SDK both verify it', async () => {
    const hooks = await receiver();
    const job = await jobWithWebhook(hooks.url, { webhook_events: ['job.started', 'job.succeeded'] });
    const [started, succeeded] = await hooks.waitForRequests(2);
    const key = await secret();
    expect(key).toMatch(/^whsec_/);
    const first = verifiedBoth(started!, key);
    const second = verifiedBoth(succeeded!, key);
    expect([first.type, second.type]).toEqual(['job.started', 'job.succeeded']);
    expect(second.data).toMatchObject({ id: job.id, object: 'job', status: 'succeeded' });
    // The body's file URL is signed by the API and works.
    const output = second.data.output as { images: Array<{ url: string }> };
    expect((await downloadImage(output.images[0]!.url)).metadata.format).toBe('png');
    const log = await deliveriesOf(job.id);
    expect(log.map((d) => d.status).sort()).toEqual(['delivered', 'delivered']);
  });

  it('delivers each event once the receiver is back, with one webhook-id on every attempt and every attempt logged', async () => {
    const hooks = await receiver({ listening: false });
    const job = await jobWithWebhook(hooks.url);
    // Connection refused until the log shows two failed attempts; then 503 twice; then 200.
    await waitFor(async () => ((await deliveriesOf(job.id))[0]?.attempts.length ?? 0) >= 2, {
      timeoutMs: 15_000,
    });
    hooks.respondWith({ status: 503 }, { status: 503 });
    await hooks.listen();
    await hooks.waitForRequests(3);
    const [delivery] = await waitFor(async () => {
      const log = await deliveriesOf(job.id);
      return log[0]?.status === 'delivered' && log;
    });
    const codes = delivery!.attempts.map((a) => a.status_code);
    expect(codes.length).toBeGreaterThanOrEqual(5);
    expect(codes.slice(-3)).toEqual([503, 503, 200]);
    expect(codes.slice(0, -3).every((code) => code === null)).toBe(true);
    expect(delivery!.attempts[0]!.error).toMatch(/refused|ECONNREFUSED/i);
    expect(new Set(hooks.requests.map((r) => r.headers['webhook-id']))).toEqual(
      new Set([delivery!.event_id]),
    );
    // The webhook's trouble never touched the job.
    expect((await getJob(stack.apiUrl, job.id)).status).toBe('succeeded');
  });

  it('disables an endpoint that answers 410 until it is enabled, then resends', async () => {
    const hooks = await receiver();
    hooks.respondWith({ status: 410 });
    const first = await jobWithWebhook(hooks.url);
    await hooks.waitForRequests(1);
    const [gone] = await waitFor(async () => {
      const log = await deliveriesOf(first.id);
      return log[0]?.status === 'failed' && log;
    });
    expect(gone!.failure_reason).toMatch(/410/);
    const disabled = (await api('/v1/webhooks/endpoints/disabled')).body.data as Array<{ url: string }>;
    expect(disabled.map((d) => d.url)).toContain(`${hooks.url}/hooks`);

    // Another job's event is not sent to a disabled endpoint.
    const second = await jobWithWebhook(hooks.url);
    await waitFor(async () => (await deliveriesOf(second.id))[0]?.status === 'failed');
    expect(hooks.requests).toHaveLength(1);

    const enabled = await api('/v1/webhooks/endpoints/enable', {
      method: 'POST',
      body: JSON.stringify({ url: `${hooks.url}/hooks` }),
    });
    expect(enabled.body).toMatchObject({ enabled: true, was_disabled: true });
    const resent = await api(`/v1/webhooks/deliveries/${gone!.id}/resend`, { method: 'POST' });
    expect(resent).toMatchObject({ status: 202, body: { status: 'pending' } });
    const [again] = await hooks.waitForRequests(2).then((all) => all.slice(1));
    expect(again!.headers['webhook-id']).toBe(gone!.event_id);
    await waitFor(async () => (await deliveriesOf(first.id))[0]?.status === 'delivered');

    // recover {since}: every failed delivery since then goes out again.
    const recovered = await api('/v1/webhooks/recover', {
      method: 'POST',
      body: JSON.stringify({ since: new Date(Date.now() - 60_000).toISOString() }),
    });
    expect(recovered.status).toBe(202);
    expect(recovered.body.resent).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await deliveriesOf(second.id))[0]?.status === 'delivered');
  });

  it('does not follow a redirect (a failure) and retries a receiver that does not answer in time', async () => {
    const hooks = await receiver();
    hooks.respondWith({ status: 302, headers: { location: '/elsewhere' } }, { status: 200, hang: true });
    const job = await jobWithWebhook(hooks.url);
    const [delivery] = await waitFor(async () => {
      const log = await deliveriesOf(job.id);
      return log[0]?.status === 'delivered' && log;
    });
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([302, null, 200]);
    expect(delivery!.attempts[1]!.error).toMatch(/timed out|timeout/i);
    expect(hooks.requests.map((r) => r.path)).toEqual(['/hooks', '/hooks', '/hooks']);
  });

  it('signs with both secrets while a rotation overlaps, so old and new both verify', async () => {
    const hooks = await receiver();
    const oldKey = await secret();
    const rotated = await api('/v1/webhooks/secret/rotate', { method: 'POST' });
    const newKey = rotated.body.secret as string;
    expect(newKey).not.toBe(oldKey);
    expect(rotated.body.previous_secret_expires_at).toBeGreaterThan(Date.now() / 1000);
    await jobWithWebhook(hooks.url);
    const [request] = await hooks.waitForRequests(1);
    expect(request!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifiedBoth(request!, oldKey).type).toBe('job.succeeded');
    expect(verifiedBoth(request!, newKey).type).toBe('job.succeeded');
  });

  it('keeps image work flowing while a receiver is down', async () => {
    const hooks = await receiver({ listening: false });
    const jobs = await Promise.all(Array.from({ length: 5 }, () => jobWithWebhook(hooks.url)));
    const done = await Promise.all(jobs.map((job) => waitForTerminal(stack.apiUrl, job.id)));
    expect(done.map((job) => job.status)).toEqual(jobs.map(() => 'succeeded'));
    // The job's webhook event is queued just after it reads as succeeded: wait for each delivery to exist.
    const pending = await Promise.all(
      jobs.map((job) =>
        waitFor(async () => (await deliveriesOf(job.id))[0]?.status, { message: `a delivery of ${job.id}` }),
      ),
    );
    expect(pending.every((status) => status === 'pending' || status === 'failed')).toBe(true);
  });
});
