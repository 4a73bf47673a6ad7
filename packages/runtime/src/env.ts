import { z } from 'zod';

/**
 * Building blocks for each app's environment schema (DESIGN §2): one zod schema per
 * app, parsed once in `main.ts`; a bad value stops start-up naming the variable.
 */

export const envBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => ['true', '1', 'yes'].includes(value));

export const envLogLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');

export const envRedisUrl = z
  .string()
  .regex(/^rediss?:\/\//, { error: 'must be a redis:// or rediss:// URL' })
  .default('redis://127.0.0.1:6379');

/** `host:port,host:port` (Redis Cluster nodes or sentinels); the connection factory reads it. */
export const envRedisNodes = z
  .string()
  .regex(/^\s*(\[[^\]]+\]|[^,:\s[]+):\d{1,5}(\s*,\s*(\[[^\]]+\]|[^,:\s[]+):\d{1,5})*\s*,?\s*$/, {
    error: 'must be host:port pairs separated by commas',
  })
  .optional();

/** Cluster and Sentinel exclude each other, and Sentinel needs the master's name. */
export function checkRedisModes(
  env: { REDIS_CLUSTER_NODES?: string; REDIS_SENTINELS?: string; REDIS_SENTINEL_NAME?: string },
  ctx: z.RefinementCtx,
): void {
  if (env.REDIS_CLUSTER_NODES && env.REDIS_SENTINELS) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_SENTINELS'],
      message: 'cannot be set together with REDIS_CLUSTER_NODES',
    });
  }
  if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_NAME) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_SENTINEL_NAME'],
      message: 'must name the master when REDIS_SENTINELS is set',
    });
  }
}

/** HMAC key for file URLs (at least 32 characters); the API and the workers must share it. */
export const envFilesSigningSecret = z
  .string()
  .min(32, { error: 'must be at least 32 characters' })
  .optional();

/** How long a handed-out file URL stays valid, seconds. */
export const envFileUrlTtlS = z.coerce
  .number()
  .int()
  .min(60)
  .default(24 * 3_600);

/** A comma-separated list (spaces trimmed, empty items dropped); unset = empty. */
export const envList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/**
 * `URL_ALLOW_LIST`: hosts, IPs or CIDRs that webhook and image URLs may reach although they are
 * private (comma-separated; local development and tests). Everything else private is refused.
 * The API (at submit) and the workers (at connect) must agree on it.
 */
export const envUrlAllowList = envList;

/** Parses `env` with `schema`; throws one message naming every bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, app: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`,
    );
    throw new Error(`invalid ${app} configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** An empty value counts as unset (compose passes `VAR:` through as empty when asked to). */
function emptyIsUnset<S extends z.ZodType>(schema: S) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema);
}

/**
 * Where blobs live (README "Storage"): `local` disk under STORAGE_DIR, or an S3-compatible
 * bucket. The API and the workers must agree on all of these.
 */
export const envStorageFields = {
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  STORAGE_DIR: z.string().min(1).default('.data/storage'),
  S3_BUCKET: emptyIsUnset(z.string().min(3).max(63).optional()),
  /** Unset (or empty): AWS for S3_REGION. */
  S3_ENDPOINT: emptyIsUnset(z.url().optional()),
  /** Where clients reach the store, if not at S3_ENDPOINT: presigned URLs are signed for it. */
  S3_PUBLIC_ENDPOINT: emptyIsUnset(z.url().optional()),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** `endpoint/bucket/key` addressing (MinIO, Ceph RGW, most self-hosted stores). */
  S3_FORCE_PATH_STYLE: envBool.default(false),
  S3_PREFIX: emptyIsUnset(
    z
      .string()
      .regex(/^\/*([A-Za-z0-9_-][A-Za-z0-9._-]*\/*)*$/, {
        error: 'must be /-separated [A-Za-z0-9._-] segments',
      })
      .optional(),
  ),
  /** Inputs, uploads and outputs are deleted this many days after they were written. */
  OUTPUT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
};

/** Longest a SigV4 presigned URL may live (S3 refuses longer). */
const PRESIGN_MAX_S = 7 * 24 * 3_600;

/** S3 needs its bucket, and presigned URLs cannot outlive a week. */
export function checkStorageEnv(
  env: { STORAGE_DRIVER: 'local' | 's3'; S3_BUCKET?: string; FILE_URL_TTL_S: number },
  ctx: z.RefinementCtx,
): void {
  if (env.STORAGE_DRIVER !== 's3') return;
  if (!env.S3_BUCKET) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when STORAGE_DRIVER=s3' });
  }
  if (env.FILE_URL_TTL_S > PRESIGN_MAX_S) {
    ctx.addIssue({
      code: 'custom',
      path: ['FILE_URL_TTL_S'],
      message: `must be at most ${PRESIGN_MAX_S} (7 days) with STORAGE_DRIVER=s3: presigned URLs live no longer`,
    });
  }
}
