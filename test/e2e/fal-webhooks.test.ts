import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const job = { model: 'flux.2-dev-turbo', prompt: 'a paper boat' };

describe('completion by fal webhook', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      falWebhooks: true,
      // Polling is only the fallback: far slower than any test, so only a webhook can finish a job.
      workerEnv: { FAL_WEBHOOK_POLL_INTERVAL_MS: '600000', HEDGE_PRIORITIES: 'none' },
    });
  });
  afterAll(async () => stack?.close());
  beforeEach(() => stack.sim.reset());

  it('completes the job on the verified webhook, long before the next poll', async () => {
    // Still running at the first status poll; fal finishes it 400 ms later and calls back.
    stack.sim.setFaults([{ on: 'outcome', delayMs: 400 }]);
    const done = await waitForTerminal(stack.apiUrl, (await submitJob(stack.apiUrl, job)).id, 20_000);
    expect(done.status).toBe('succeeded');
    const stats = stack.sim.stats();
    expect(stats.webhookAttempts).toBe(1);
    // One poll before the webhook, one after it woke the worker.
    expect(stats.statusCalls).toBe(2);
  });
});

describe('when fal webhooks are lost', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        // Nothing listens there: every delivery fails, as if the public URL were wrong.
        FAL_WEBHOOK_URL: 'http://127.0.0.1:9/fal/webhook',
        FAL_WEBHOOK_POLL_INTERVAL_MS: '300',
        HEDGE_PRIORITIES: 'none',
      },
    });
  });
  afterAll(async () => stack?.close());

  it('completes the job by polling', async () => {
    stack.sim.setFaults([{ on: 'outcome', delayMs: 400 }]);
    const done = await waitForTerminal(stack.apiUrl, (await submitJob(stack.apiUrl, job)).id, 20_000);
    expect(done.status).toBe('succeeded');
    expect(stack.sim.stats().webhookAttempts).toBeGreaterThanOrEqual(1);
    expect(stack.sim.stats().statusCalls).toBeGreaterThanOrEqual(2);
  });
});
