import { type ImageJobData, newId, type Priority } from '@fluxq/core';
import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createImagesQueue,
  enqueueImageJob,
  IMAGE_JOB_NAME,
  IMAGES_QUEUE,
  type ImagesQueue,
  PRIORITY_VALUES,
  QUEUE_PREFIX,
} from '../src/index.js';

let server: TestRedis;
let redis: Redis;
let queue: ImagesQueue;

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

beforeEach(() => {
  queue = createImagesQueue({ url: server.url });
});

afterEach(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

const jobData = (tenant = 'tenant-q'): ImageJobData => ({ jobId: newId('job'), tenant });

describe('images queue', () => {
  describe('when a job is enqueued', () => {
    it('uses the job id as the BullMQ job id, under the {fluxq} prefix', async () => {
      const data = jobData();
      await enqueueImageJob(queue, data, 'default');
      const job = await queue.getJob(data.jobId);
      expect(job?.id).toBe(data.jobId);
      expect(job?.name).toBe(IMAGE_JOB_NAME);
      expect(await redis.exists(`${QUEUE_PREFIX}:${IMAGES_QUEUE}:${data.jobId}`)).toBe(1);
    });

    it('keeps one BullMQ job when the same job id is enqueued twice', async () => {
      const data = jobData();
      await enqueueImageJob(queue, data, 'default');
      await enqueueImageJob(queue, data, 'interactive');
      const counts = await queue.getJobCounts();
      expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(1);
      expect((await queue.getJob(data.jobId))?.opts.priority).toBe(PRIORITY_VALUES.default);
    });

    it('carries a small payload of references only: no image bytes', async () => {
      const data = jobData();
      await enqueueImageJob(queue, data, 'bulk');
      const job = await queue.getJob(data.jobId);
      expect(job?.data).toEqual(data);
      const stored = await redis.hget(`${QUEUE_PREFIX}:${IMAGES_QUEUE}:${data.jobId}`, 'data');
      expect(stored).toBe(JSON.stringify(data));
      expect(Buffer.byteLength(stored ?? '')).toBeLessThan(200);
      expect(stored).not.toMatch(/base64|data:image|[A-Za-z0-9+/]{100,}/);
    });

    it('sets attempts and an exponential backoff on the job', async () => {
      const data = jobData();
      await enqueueImageJob(queue, data, 'default');
      const job = await queue.getJob(data.jobId);
      expect(job?.opts).toMatchObject({
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000 },
      });
    });

    it('takes attempts and backoff delay from the queue options', async () => {
      const tuned = createImagesQueue({ url: server.url }, { attempts: 3, backoffDelayMs: 250 });
      try {
        const data = jobData();
        await enqueueImageJob(tuned, data, 'default');
        const job = await tuned.getJob(data.jobId);
        expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 250 } });
      } finally {
        await tuned.close();
      }
    });
  });

  describe('when jobs of different priorities wait', () => {
    it('orders the priority values interactive < default < bulk', () => {
      expect(PRIORITY_VALUES.interactive).toBeLessThan(PRIORITY_VALUES.default);
      expect(PRIORITY_VALUES.default).toBeLessThan(PRIORITY_VALUES.bulk);
    });

    it.each<[Priority]>([['interactive'], ['default'], ['bulk']])(
      'stores the %s priority value on the job',
      async (priority) => {
        const data = jobData();
        await enqueueImageJob(queue, data, priority);
        expect((await queue.getJob(data.jobId))?.opts.priority).toBe(PRIORITY_VALUES[priority]);
      },
    );

    it('hands interactive work to a worker first and bulk work last', async () => {
      const byPriority = new Map<string, Priority>();
      for (const priority of ['bulk', 'default', 'interactive', 'bulk', 'interactive'] as const) {
        const data = jobData();
        byPriority.set(data.jobId, priority);
        await enqueueImageJob(queue, data, priority);
      }
      const worker = new Worker(IMAGES_QUEUE, null, {
        connection: { url: server.url },
        prefix: QUEUE_PREFIX,
        autorun: false,
      });
      try {
        const taken: Priority[] = [];
        for (let i = 0; i < byPriority.size; i++) {
          const job = await worker.getNextJob('test-token', { block: false });
          if (job?.id) taken.push(byPriority.get(job.id)!);
        }
        expect(taken).toEqual(['interactive', 'interactive', 'default', 'bulk', 'bulk']);
      } finally {
        await worker.close(true);
      }
    });
  });
});
