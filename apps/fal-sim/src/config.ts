import { createSeededRandom } from '@fluxq/runtime';
import { z } from 'zod';
import type { FalSimOptions } from './types.js';

const envSchema = z.object({
  /** Port to listen on; 0 = any free port. */
  FAL_SIM_PORT: z.coerce.number().int().min(0).max(65_535).default(8090),
  FAL_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  /** Multiplier on the latency priors; 0 = as fast as possible. */
  FAL_SIM_TIME_SCALE: z.coerce.number().min(0).default(1),
  /** Failure probability for every endpoint, 0..1; unset = the catalog's provider success rates. */
  FAL_SIM_FAILURE_RATE: z.coerce.number().min(0).max(1).optional(),
  /** Account concurrency limit (IN_PROGRESS requests); unset = unlimited. */
  FAL_SIM_MAX_CONCURRENCY: z.coerce.number().int().min(0).optional(),
  /** Base URL written into response and file URLs, when clients reach the sim through another name. */
  FAL_SIM_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** How long CDN files stay downloadable, seconds. */
  FAL_SIM_FILE_TTL_SECONDS: z.coerce.number().positive().default(3600),
  /** Most CDN bytes kept in memory, MiB; the oldest files are dropped beyond it. */
  FAL_SIM_MAX_STORED_MB: z.coerce.number().positive().default(1024),
  /** `rendered` (each output drawn for its prompt and seed) or `prerendered` (one image per size, reused: benchmarks). */
  FAL_SIM_IMAGES: z.enum(['rendered', 'prerendered']).default('rendered'),
  /** Seed for the sim's random draws; unset = Math.random. */
  FAL_SIM_SEED: z.coerce.number().int().optional(),
});

/** A bad environment variable; the message names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads the sim's options from the environment. Empty strings count as unset. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
): Required<Pick<FalSimOptions, 'port' | 'host'>> & FalSimOptions {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ConfigError(`Invalid fal-sim environment: ${message}`);
  }
  const e = parsed.data;
  return {
    port: e.FAL_SIM_PORT,
    host: e.FAL_SIM_HOST,
    timeScale: e.FAL_SIM_TIME_SCALE,
    fileTtlMs: e.FAL_SIM_FILE_TTL_SECONDS * 1000,
    maxStoredBytes: e.FAL_SIM_MAX_STORED_MB * 1024 * 1024,
    images: e.FAL_SIM_IMAGES,
    ...(e.FAL_SIM_FAILURE_RATE !== undefined ? { failureRate: e.FAL_SIM_FAILURE_RATE } : {}),
    ...(e.FAL_SIM_MAX_CONCURRENCY !== undefined ? { maxConcurrency: e.FAL_SIM_MAX_CONCURRENCY } : {}),
    ...(e.FAL_SIM_PUBLIC_URL !== undefined ? { publicUrl: e.FAL_SIM_PUBLIC_URL } : {}),
    ...(e.FAL_SIM_SEED !== undefined ? { random: createSeededRandom(e.FAL_SIM_SEED) } : {}),
  };
}
