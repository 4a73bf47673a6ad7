import { envBool, envLogLevel, envRedisUrl, parseEnv } from '@fluxq/core';
import { z } from 'zod';

const DEFAULT_FAL_BASE_URL = 'https://queue.fal.run';
const DEFAULT_FAL_REST_URL = 'https://rest.fal.ai';
/** Sent to a non-fal FAL_BASE_URL (the simulator) when no FAL_KEY is set. */
export const SIMULATOR_KEY = 'fluxq-simulator';

/** Worker configuration: environment variables, units in names (DESIGN §2). */
export const workerEnvSchema = z
  .object({
    REDIS_URL: envRedisUrl,
    FAL_KEY: z.string().min(1).optional(),
    FAL_BASE_URL: z.url().default(DEFAULT_FAL_BASE_URL),
    /** Where fal's storage upload handshake goes; follows FAL_BASE_URL when that is not fal's own. */
    FAL_REST_URL: z.url().optional(),
    FAL_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
    /** An attempt that fal has not finished by then is cancelled at fal and retried. */
    FAL_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(100).default(180_000),
    /** `X-Fal-Request-Timeout`: how long a request may wait in fal's queue. */
    FAL_START_TIMEOUT_S: z.coerce.number().int().min(2).max(3_600).default(60),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
    WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).default(30_000),
    WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
    WORKER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    JOB_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    JOB_BACKOFF_MS: z.coerce.number().int().min(0).default(1_000),
    STORAGE_DRIVER: z.enum(['local']).default('local'),
    STORAGE_DIR: z.string().min(1).default('.data/storage'),
    IMAGE_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
    IMAGE_FETCH_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(25 * 1024 * 1024),
    /** Lets input image URLs use plain http (local development and tests only). */
    ALLOW_HTTP_IMAGE_URLS: envBool.default(false),
    LOG_LEVEL: envLogLevel,
  })
  .superRefine((env, ctx) => {
    if (!env.FAL_KEY && env.FAL_BASE_URL === DEFAULT_FAL_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['FAL_KEY'],
        message:
          'is required to call fal.ai; for the local simulator set FAL_BASE_URL to it (npm start does)',
      });
    }
  })
  .transform((env) => ({
    ...env,
    FAL_REST_URL:
      env.FAL_REST_URL ??
      (env.FAL_BASE_URL === DEFAULT_FAL_BASE_URL ? DEFAULT_FAL_REST_URL : env.FAL_BASE_URL),
    // The simulator, like fal, wants an Authorization header; it accepts any key.
    FAL_KEY: env.FAL_KEY ?? SIMULATOR_KEY,
  }));

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export const loadWorkerConfig = (env: NodeJS.ProcessEnv): WorkerConfig =>
  parseEnv(workerEnvSchema, env, 'worker');
