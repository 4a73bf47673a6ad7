import { recordKeys } from '@fluxq/store';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchStack } from './harness.js';

/**
 * Jobs per second from the first submit until `count` jobs succeeded: HTTP submit,
 * worker, fal-sim at zero latency (real 512×512 PNGs), download, storage. Completion
 * is counted from the job store's status events, not by polling.
 */
export async function measureFluxqEndToEnd(
  stack: BenchStack,
  count: number,
  submitters: number,
): Promise<number> {
  const events = new Redis(stack.redis.url);
  let succeeded = 0;
  let failed = 0;
  const done = new Promise<void>((resolve) => {
    events.on('message', (_channel: string, message: string) => {
      if (message.endsWith(' succeeded')) succeeded++;
      else if (message.endsWith(' failed')) failed++;
      if (succeeded + failed >= count) resolve();
    });
  });
  await events.subscribe(recordKeys.jobEvents);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: submitters }, async () => {
      while (next < count) {
        next++;
        const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `bench image ${next}`, size: '512x512', seed: next }),
        });
        if (response.status !== 202) throw new Error(`submit answered ${response.status}`);
        await response.arrayBuffer();
      }
    }),
  );
  await done;
  const elapsedS = (performance.now() - started) / 1000;
  await events.quit();
  if (failed > 0) throw new Error(`${failed} of ${count} jobs failed during the benchmark`);
  return count / elapsedS;
}

/** Raw BullMQ: `count` no-op jobs added with addBulk, processed by one worker of `concurrency`. */
export async function measureRawProcessing(
  redisUrl: string,
  count: number,
  concurrency: number,
): Promise<number> {
  const connection = { url: redisUrl };
  const queue = new Queue('bench-raw-process', { connection, prefix: '{bench}' });
  let completed = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new Worker('bench-raw-process', async () => undefined, {
    connection: { ...connection, maxRetriesPerRequest: null },
    prefix: '{bench}',
    concurrency,
  });
  worker.on('completed', () => {
    completed++;
    if (completed >= count) finish();
  });
  await worker.waitUntilReady();
  const started = performance.now();
  await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: { i } })));
  await done;
  const perSecond = count / ((performance.now() - started) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return perSecond;
}
