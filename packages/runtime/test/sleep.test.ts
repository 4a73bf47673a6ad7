import { describe, expect, it } from 'vitest';
import { sleep } from '../src/index.js';

describe('sleep', () => {
  it('resolves after the wait', async () => {
    const started = performance.now();
    await sleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rejects with the signal’s reason when aborted meanwhile, or at once when aborted before', async () => {
    const controller = new AbortController();
    const reason = new Error('job canceled');
    const waiting = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(sleep(60_000, controller.signal)).rejects.toBe(reason);
  });
});
