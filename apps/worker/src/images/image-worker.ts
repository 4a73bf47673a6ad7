import type { ImageJobData } from '@fluxq/core';
import { IMAGES_QUEUE, QUEUE_PREFIX } from '@fluxq/queue';
import { type ConnectionOptions, Worker } from 'bullmq';
import type { ProcessorDeps } from '../deps.js';
import { createImageProcessor } from './processor.js';

export interface ImageWorkerOptions {
  connection: ConnectionOptions;
  /** Jobs held at once by this process. */
  concurrency: number;
  /** How long a job's lock lasts without renewal; a dead worker's jobs are recovered after it, ms. */
  lockDurationMs: number;
  /** How often stalled jobs are looked for, ms. */
  stalledIntervalMs: number;
}

/**
 * BullMQ applies a manual rate limit (`rateLimit` after a fal 429) only to workers that
 * have a limiter; this one is high enough never to bind by itself.
 */
const UNBINDING_LIMITER = { max: 100_000, duration: 1_000 };

/**
 * A BullMQ worker on the `images` queue. Jobs whose worker died are moved back by
 * BullMQ's stalled-job check and resumed from the fal request ids on the record.
 */
export function createImageWorker(deps: ProcessorDeps, options: ImageWorkerOptions): Worker<ImageJobData> {
  const worker = new Worker<ImageJobData>(IMAGES_QUEUE, createImageProcessor(deps), {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    // A job whose worker dies more than this often is failed by BullMQ (see the backstop below).
    maxStalledCount: 3,
    limiter: UNBINDING_LIMITER,
    autorun: false,
  });
  deps.rateLimit = (ms) => worker.rateLimit(ms);

  // Backstop: BullMQ can fail a job without our processor (too many stalls). Keep the
  // record truthful when that happens; a job the processor already finished is left alone.
  worker.on('failed', (job, err) => {
    if (!job || err.name === 'UnrecoverableError') return;
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade < attempts && !/stalled/i.test(err.message)) return;
    // Batch count, webhook and reporting as for any failure; its fal slot is left to expire.
    void deps.lifecycle
      .stall(job.data.jobId, err.message)
      .catch((updateErr: unknown) => deps.logger.error({ err: updateErr }, 'could not record a failed job'));
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'worker error'));
  return worker;
}
