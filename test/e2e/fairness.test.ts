import { createRedis } from '@fluxq/queue';
import { createJobStore } from '@fluxq/store';
import { waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const A = { authorization: 'Bearer fq_fair_tenant_a' };
const B = { authorization: 'Bearer fq_fair_tenant_b' };

/**
 * Fairness between tenants (issue 6): tenant A's 2,000-job bulk batch is accepted first, then
 * tenant B submits 10 bulk jobs. B's jobs take their turns next to A's instead of queueing
 * behind the whole batch: all 10 start before A's next 100 do.
 */
describe('a big batch from one tenant does not starve another', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      apiEnv: { API_KEYS: 'fq_fair_tenant_a:acme,fq_fair_tenant_b:globex' },
      workerEnv: { WORKER_CONCURRENCY: '8', HEDGE_PRIORITIES: 'none' },
    });
    // Each request takes a little while at fal, so A's batch is far from done when B arrives.
    stack.sim.setFaults([{ on: 'outcome', delayMs: 25, times: -1 }]);
  });
  afterAll(async () => stack?.close());

  it("starts all 10 of B's jobs before A's next 100", async () => {
    const requests = Array.from({ length: 2_000 }, (_, i) => ({
      custom_id: `a-${i}`,
      prompt: `a ${i}`,
      size: '512x512',
    }));
    const response = await fetch(`${stack.apiUrl}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...A },
      body: JSON.stringify({ requests, priority: 'bulk' }),
    });
    expect(response.status).toBe(202);
    const batch = (await response.json()) as { id: string };
    const redis = createRedis({ url: stack.redis.url, role: 'worker' });
    onTestFinished(() => redis.disconnect());
    const store = createJobStore(redis);
    const batchJobs = async () => {
      const page = (await fetch(
        `${stack.apiUrl}/v1/jobs?batch_id=${batch.id}&limit=100&status=running,succeeded`,
        {
          headers: A,
        },
      ).then((r) => r.json())) as { data: unknown[] };
      return page.data.length;
    };
    // A's batch is running before B shows up.
    await waitFor(async () => (await batchJobs()) >= 10, { timeoutMs: 30_000 });

    const submittedAt = Date.now();
    const bJobs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        submitJob(stack.apiUrl, { prompt: `b ${i}`, size: '512x512', priority: 'bulk' }, B),
      ),
    );
    const done = await Promise.all(bJobs.map((job) => waitForTerminal(stack.apiUrl, job.id, 60_000, B)));
    expect(done.map((job) => job.status)).toEqual(bJobs.map(() => 'succeeded'));
    const bRecords = await store.getMany(bJobs.map((job) => job.id));
    const lastBStart = Math.max(...bRecords.map((record) => record!.started_ms!));

    // A's jobs that started after B submitted and before B's last one started.
    // Each line is "<job id> <custom_id>".
    const aIds = (await redis.lrange(`{fluxq}:batch:${batch.id}:lines`, 0, -1)).map(
      (line) => line.split(' ')[0]!,
    );
    const aRecords = (await store.getMany(aIds)).filter((record) => record?.started_ms != null);
    const aStartedMeanwhile = aRecords.filter(
      (record) => record!.started_ms! >= submittedAt && record!.started_ms! <= lastBStart,
    ).length;
    expect(aStartedMeanwhile).toBeLessThan(100);
    // And A was not stopped either: its batch kept running next to B.
    expect(aRecords.length).toBeGreaterThan(10);

    await fetch(`${stack.apiUrl}/v1/batches/${batch.id}/cancel`, { method: 'POST', headers: A });
  });
});
