import type { ImageJobData, Priority } from '@fluxq/core';
import { type ConnectionOptions, type JobsOptions, Queue } from 'bullmq';
import { IMAGE_JOB_NAME, IMAGES_QUEUE, PRIORITY_VALUES, QUEUE_PREFIX } from './names.js';

export interface ImageQueueOptions {
  /** Attempts per job, including the first. @defaultValue 5 */
  attempts?: number;
  /** Base delay of the exponential backoff between attempts, ms. @defaultValue 1000 */
  backoffDelayMs?: number;
}

const DEFAULTS: Required<ImageQueueOptions> = { attempts: 5, backoffDelayMs: 1_000 };

/**
 * The queue's options from the configuration every process that builds the queue loads (API and
 * worker alike): either may enqueue a granted job, so a job's options never depend on which did.
 */
export function imageQueueOptionsOf(config: {
  JOB_ATTEMPTS: number;
  JOB_BACKOFF_MS: number;
}): ImageQueueOptions {
  return { attempts: config.JOB_ATTEMPTS, backoffDelayMs: config.JOB_BACKOFF_MS };
}

/** Job options every image job carries; the job store keeps the history, so BullMQ need not. */
export function imageJobOptions(options: ImageQueueOptions = {}): JobsOptions {
  const { attempts, backoffDelayMs } = { ...DEFAULTS, ...options };
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffDelayMs, jitter: 1 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3_600 },
  };
}

export type ImagesQueue = Queue<ImageJobData, void, typeof IMAGE_JOB_NAME>;

export function createImagesQueue(
  connection: ConnectionOptions,
  options: ImageQueueOptions = {},
): ImagesQueue {
  return new Queue<ImageJobData, void, typeof IMAGE_JOB_NAME>(IMAGES_QUEUE, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: imageJobOptions(options),
  });
}

/** Enqueues a job whose record is already in the job store; the BullMQ id is the job id. */
export async function enqueueImageJob(
  queue: ImagesQueue,
  data: ImageJobData,
  priority: Priority,
): Promise<void> {
  await queue.add(IMAGE_JOB_NAME, data, { jobId: data.jobId, priority: PRIORITY_VALUES[priority] });
}

/** Jobs per `addBulk` call when a batch is enqueued. */
export const ENQUEUE_CHUNK = 1_000;

/**
 * Enqueues many jobs (a batch) with `addBulk`, `chunkSize` per call; each job's record
 * must already be in the job store. On a failure, the jobs of earlier chunks stay
 * queued: the caller removes them.
 */
export async function enqueueImageJobs(
  queue: ImagesQueue,
  jobs: ReadonlyArray<{ data: ImageJobData; priority: Priority }>,
  chunkSize = ENQUEUE_CHUNK,
): Promise<void> {
  for (let start = 0; start < jobs.length; start += chunkSize) {
    await queue.addBulk(
      jobs.slice(start, start + chunkSize).map(({ data, priority }) => ({
        name: IMAGE_JOB_NAME,
        data,
        opts: { jobId: data.jobId, priority: PRIORITY_VALUES[priority] },
      })),
    );
  }
}

/**
 * Resolves once the queue is connected and has written its meta key. BullMQ writes it
 * fire-and-forget after connecting; a PING on the same connection is answered only
 * after that write, so start-up ends with the queue's keys in place.
 */
export async function queueReady(queue: Pick<ImagesQueue, 'waitUntilReady'>): Promise<void> {
  const client = (await queue.waitUntilReady()) as unknown as { ping(): Promise<string> };
  await client.ping();
}
