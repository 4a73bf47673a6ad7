import { availableParallelism } from 'node:os';
import { FAL_JWKS_URL } from '@fluxq/fal';
import {
  checkRedisModes,
  checkStorageEnv,
  envBool,
  envFilesSigningSecret,
  envFileUrlTtlS,
  envLogLevel,
  envRedisNodes,
  envRedisUrl,
  envStorageFields,
  envUrlAllowList,
  parseEnv,
} from '@fluxq/runtime';
import { z } from 'zod';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** API configuration: environment variables, units in names (DESIGN §2). */
export const apiEnvSchema = z
  .object({
    NODE_ENV: z.string().default('development'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** API processes sharing PORT (node's cluster); unset = the core count when NODE_ENV=production, else 1. */
    API_PROCESSES: z.coerce.number().int().min(1).max(256).optional(),
    HOST: z.string().min(1).default('127.0.0.1'),
    PUBLIC_BASE_URL: z.url().optional(),
    REDIS_URL: envRedisUrl,
    // Redis Cluster or Sentinel instead of REDIS_URL (packages/queue/src/redis-target.ts).
    REDIS_CLUSTER_NODES: envRedisNodes,
    REDIS_SENTINELS: envRedisNodes,
    REDIS_SENTINEL_NAME: z.string().min(1).optional(),
    ...envStorageFields,
    /** HMAC key for file URLs; at least 32 characters. Unset: a random one per process. */
    FILES_SIGNING_SECRET: envFilesSigningSecret,
    /** How long a handed-out file URL stays valid. */
    FILE_URL_TTL_S: envFileUrlTtlS,
    URL_ALLOW_LIST: envUrlAllowList,
    /** After `POST /v1/webhooks/secret/rotate` deliveries carry the old secret's signature this long too. */
    WEBHOOK_SECRET_OVERLAP_S: z.coerce
      .number()
      .int()
      .min(0)
      .default(24 * 3_600),
    /** `fq_key:tenant` pairs, comma-separated. Unset (and no API_KEYS_FILE): local open mode. */
    API_KEYS: z.string().optional(),
    /** A JSON file of tenants, their keys (hashed: `sha256:<hex>`) and limits; see the README. */
    API_KEYS_FILE: z.string().min(1).optional(),
    /** Admin key (or `sha256:<hex>`): `/metrics`, `/admin/*`, cross-tenant stats. */
    ADMIN_API_KEY: z.string().min(1).optional(),
    /** Bearer token Prometheus scrapes `/metrics` with, besides the admin key (and the workers' `/metrics`). */
    METRICS_TOKEN: z.string().min(16).optional(),
    /** `false`: no `/metrics` and no request counting. */
    METRICS_ENABLED: envBool.default(true),
    /** Adds per-tenant series (`tenant` label): the jobs each configured tenant created in 24 h. */
    METRICS_TENANT_LABELS: envBool.default(false),
    /** Limits of tenants that set none of their own (unset = no limit). */
    TENANT_REQUESTS_PER_MINUTE: z.coerce.number().int().positive().optional(),
    TENANT_MAX_QUEUED_JOBS: z.coerce.number().int().positive().optional(),
    TENANT_MAX_RUNNING_JOBS: z.coerce.number().int().positive().optional(),
    TENANT_DAILY_SPEND_USD: z.coerce.number().positive().optional(),
    MAX_JSON_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(40 * 1024 * 1024),
    /** Largest file one multipart part may carry (`POST /v1/uploads`, `/v1/images/edits`); 413 above. */
    MAX_UPLOAD_FILE_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(20 * 1024 * 1024),
    /** How long an upload (`upl_…`) can be used in new requests. */
    UPLOAD_TTL_S: z.coerce
      .number()
      .int()
      .min(1)
      .default(24 * 3_600),
    /** How long an `Idempotency-Key` is remembered. */
    IDEMPOTENCY_TTL_S: z.coerce
      .number()
      .int()
      .min(1)
      .default(24 * 3_600),
    /** Most image files one multipart `/v1/images/edits` request may carry (400 above). */
    MAX_UPLOAD_FILES: z.coerce.number().int().min(1).max(4).default(4),
    /** All files of one multipart request together (413 above). */
    MAX_MULTIPART_TOTAL_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(40 * 1024 * 1024),
    /** Longest line (one request) of a batch; a longer one makes the batch a 400 `invalid_batch`. */
    MAX_BATCH_LINE_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(1024 * 1024),
    /** Largest JSONL file of a multipart `POST /v1/batches` (413 above): room for 50,000 small lines. */
    MAX_BATCH_FILE_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(200 * 1024 * 1024),
    /** Longest a synchronous `/v1/images/*` call waits for its job (`Prefer: wait=N` is capped by it). */
    SYNC_WAIT_MAX_S: z.coerce.number().int().min(0).max(3_600).default(300),
    JOB_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    JOB_BACKOFF_MS: z.coerce.number().int().min(0).default(1_000),
    /**
     * Where fal's webhook signing keys are (`POST /fal/webhook` checks every delivery against
     * them). The route is always mounted: without a valid fal signature it answers 401.
     */
    FAL_JWKS_URL: z.url().default(FAL_JWKS_URL),
    /** Largest fal webhook body; fal inlines images as data URIs when sync_mode is set (413 above). */
    FAL_WEBHOOK_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(20 * 1024 * 1024),
    /** Lets input image URLs use plain http (local development and tests only). */
    ALLOW_HTTP_IMAGE_URLS: envBool.default(false),
    LOG_LEVEL: envLogLevel,
  })
  .superRefine((env, ctx) => {
    checkRedisModes(env, ctx);
    checkStorageEnv(env, ctx);
    const keyed = Boolean(env.API_KEYS || env.API_KEYS_FILE);
    if (!keyed && env.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['API_KEYS'],
        message: 'is required when NODE_ENV=production (open mode is for local use only)',
      });
    }
    if (!keyed && !LOOPBACK_HOSTS.has(env.HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['HOST'],
        message: `must be a loopback address without API_KEYS (open mode never listens on ${env.HOST}); set API_KEYS to listen there`,
      });
    }
  })
  .transform((env) => ({
    ...env,
    PUBLIC_BASE_URL: (env.PUBLIC_BASE_URL ?? `http://${env.HOST}:${env.PORT}`).replace(/\/+$/, ''),
  }));

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export const loadApiConfig = (env: NodeJS.ProcessEnv): ApiConfig => parseEnv(apiEnvSchema, env, 'api');

/** How many API processes to run: API_PROCESSES, or every core in production (one in development). */
export const apiProcessCount = (config: ApiConfig): number =>
  config.API_PROCESSES ?? (config.NODE_ENV === 'production' ? availableParallelism() : 1);

/**
 * Configured secrets the logger masks wherever they would appear, whatever their shape:
 * API keys given in clear (`API_KEYS`, `ADMIN_API_KEY`; hashes are not secrets) and the
 * file-URL signing secret.
 */
export function logSecrets(config: ApiConfig): string[] {
  const keys = (config.API_KEYS ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => (pair.lastIndexOf(':') > 0 ? pair.slice(0, pair.lastIndexOf(':')) : pair));
  return [...keys, config.ADMIN_API_KEY, config.METRICS_TOKEN, config.FILES_SIGNING_SECRET].filter(
    (secret): secret is string => secret !== undefined && !secret.startsWith('sha256:'),
  );
}
