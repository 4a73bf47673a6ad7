import { describe, expect, it } from 'vitest';
import { WaitForTimeoutError, waitFor } from '../src/index.js';

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('keeps polling through errors', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return 'done';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('done');
  });

  describe('when the condition never holds', () => {
    it('names what it waited for and the last value', async () => {
      const error = await waitFor(() => ({ status: 'queued' }).status === 'done' && 'ok', {
        timeoutMs: 50,
        intervalMs: 10,
        message: 'the job to succeed',
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitForTimeoutError);
      expect((error as Error).message).toBe(
        'timed out after 50 ms waiting for the job to succeed; last value: false',
      );
    });

    it('reports the last error, as the cause too', async () => {
      const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
      const error = await waitFor(
        () => {
          throw cause;
        },
        { timeoutMs: 30, intervalMs: 10, message: 'the API' },
      ).catch((e: unknown) => e);
      expect((error as Error).message).toBe(
        'timed out after 30 ms waiting for the API; last attempt threw: connect ECONNREFUSED 127.0.0.1:1',
      );
      expect((error as Error).cause).toBe(cause);
    });
  });

  it('stops when its signal is aborted', async () => {
    const aborter = new AbortController();
    const waiting = waitFor(() => false, { timeoutMs: 10_000, signal: aborter.signal });
    aborter.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
