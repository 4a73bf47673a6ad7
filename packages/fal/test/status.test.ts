import { describe, expect, it } from 'vitest';
import { createFalQueueClient, type FalError, FalNotFoundError, FalTransientError } from '../src/index.js';
import { FAST_RETRY, SUBMIT_OK, useFalServer } from './fal-server.js';

const serve = useFalServer();

describe('status', () => {
  it('retries a 503 and then succeeds', async () => {
    const s = await serve((_req, i) =>
      i < 2 ? { status: 503, body: { detail: 'busy' } } : { status: 202, body: { status: 'IN_PROGRESS' } },
    );
    const client = createFalQueueClient({ baseUrl: s.url, readRetries: 2, ...FAST_RETRY });
    expect(await client.status('fal-ai/flux-2/turbo', 'r')).toEqual({ status: 'IN_PROGRESS' });
    expect(s.requests).toHaveLength(3);
  });

  it('gives up after readRetries and throws the last error', async () => {
    const s = await serve(() => ({ status: 502, body: 'bad gateway' }));
    const client = createFalQueueClient({ baseUrl: s.url, readRetries: 1, ...FAST_RETRY });
    await expect(client.status('fal-ai/flux-2', 'r')).rejects.toBeInstanceOf(FalTransientError);
    expect(s.requests).toHaveLength(2);
  });

  it('does not wait out a Retry-After longer than the cap', async () => {
    const s = await serve(() => ({ status: 429, headers: { 'retry-after': '60' } }));
    const client = createFalQueueClient({ baseUrl: s.url, readRetries: 3, ...FAST_RETRY });
    const err = (await client.status('fal-ai/flux-2', 'r').catch((e: unknown) => e)) as FalError;
    expect(err.retryAfterMs).toBe(60_000);
    expect(s.requests).toHaveLength(1);
  });

  it.each([404, 422])('does not retry %i', async (status) => {
    const s = await serve(() => ({ status, body: { detail: 'no' } }));
    const client = createFalQueueClient({ baseUrl: s.url, readRetries: 3, ...FAST_RETRY });
    await expect(client.status('fal-ai/flux-2', 'r')).rejects.toHaveProperty('status', status);
    expect(s.requests).toHaveLength(1);
  });

  it('maps a COMPLETED failure with metrics and logs', async () => {
    const s = await serve(() => ({
      status: 200,
      body: {
        status: 'COMPLETED',
        error: 'Invalid status code: 422',
        error_type: 'validation_error',
        metrics: { inference_time: 1.5 },
        logs: [{ message: 'hi', level: 'INFO' }],
      },
    }));
    const out = await createFalQueueClient({ baseUrl: s.url }).status('fal-ai/flux-2', 'r', { logs: true });
    expect(out).toEqual({
      status: 'COMPLETED',
      error: 'Invalid status code: 422',
      errorType: 'validation_error',
      inferenceTimeS: 1.5,
      logs: [{ message: 'hi', level: 'INFO' }],
    });
    expect(s.requests[0]!.url).toBe('/fal-ai/flux-2/requests/r/status?logs=1');
  });

  it('passes unknown statuses through', async () => {
    const s = await serve(() => ({ status: 202, body: { status: 'FAILED', queue_position: 0 } }));
    const out = await createFalQueueClient({ baseUrl: s.url }).status('fal-ai/flux-2', 'r');
    expect(out).toEqual({ status: 'FAILED', queuePosition: 0 });
  });

  it('reports a lost request as FalNotFoundError', async () => {
    const s = await serve(() => ({ status: 404, body: { detail: 'Request not found' } }));
    await expect(
      createFalQueueClient({ baseUrl: s.url }).status('fal-ai/flux-2', 'r'),
    ).rejects.toBeInstanceOf(FalNotFoundError);
  });
});

describe('timeouts and signals', () => {
  it('aborts a hung call with FAL_ERR_TIMEOUT after the per-call timeout', async () => {
    const s = await serve(() => ({ status: 200, hang: true }));
    const client = createFalQueueClient({ baseUrl: s.url, readRetries: 0, timeouts: { statusMs: 100 } });
    const started = Date.now();
    await expect(client.status('fal-ai/flux-2', 'r')).rejects.toMatchObject({
      name: 'FalTransportError',
      code: 'FAL_ERR_TIMEOUT',
      operation: 'status',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rethrows the caller signal reason when the caller aborts, without retrying', async () => {
    let arrived!: () => void;
    const requestSeen = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const s = await serve(() => {
      arrived();
      return { status: 200, hang: true };
    });
    const client = createFalQueueClient({ baseUrl: s.url, readRetries: 3, timeouts: { resultMs: 10_000 } });
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    const pending = client.result('fal-ai/flux-2', 'r', { signal: controller.signal });
    await requestSeen;
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(s.requests).toHaveLength(1);
  });

  it('does not call fal at all when the signal is already aborted', async () => {
    const s = await serve(() => SUBMIT_OK());
    const client = createFalQueueClient({ baseUrl: s.url });
    const signal = AbortSignal.abort();
    await expect(client.submit('fal-ai/flux-2', {}, { signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(s.requests).toHaveLength(0);
  });
});
