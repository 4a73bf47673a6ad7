import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The tenant every caller is in local open mode (no keys configured). */
export const OPEN_MODE_TENANT = 'local';

/** The tenant admin keys act as (`/v1/*` calls with an admin key); no configured tenant may use it. */
export const ADMIN_TENANT = 'admin';

/** API keys carry this prefix, so secret scanners and humans recognise a leaked one. */
export const API_KEY_PREFIX = 'fq_';

/** What one tenant may do; null = no limit. */
export interface TenantLimits {
  /** Requests per minute, across every API process (Redis). */
  requestsPerMinute: number | null;
  /** Jobs waiting to start; a submit beyond it is a 429. */
  maxQueuedJobs: number | null;
  /** Jobs running at once; more wait in the queue (never fail). */
  maxRunningJobs: number | null;
  /** USD per UTC day, priced by the pricing rule at submit; beyond it a 402. */
  dailySpendUsd: number | null;
  /** Share of fal capacity against other tenants of a class (deficit round-robin weight); absent = 1. */
  weight?: number;
}

export const UNLIMITED: TenantLimits = {
  requestsPerMinute: null,
  maxQueuedJobs: null,
  maxRunningJobs: null,
  dailySpendUsd: null,
};

/** Who is calling: the tenant whose data the request may see, and whether it holds an admin key. */
export interface Caller {
  tenant: string;
  admin: boolean;
}

export interface TenantRegistry {
  /** No keys configured: everyone is tenant `local` (loopback only, refused in production). */
  readonly openMode: boolean;
  /** The caller a presented key stands for, or undefined for an unknown key. */
  authenticate(key: string): Caller | undefined;
  limitsOf(tenant: string): TenantLimits;
  /** Every configured tenant (for admin stats). */
  tenants(): string[];
}

export const TENANT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const HASHED = /^sha256:([0-9a-f]{64})$/;

const limitsSchema = z
  .object({
    requests_per_minute: z.number().int().positive().nullable().optional(),
    max_queued_jobs: z.number().int().positive().nullable().optional(),
    max_running_jobs: z.number().int().positive().nullable().optional(),
    daily_spend_usd: z.number().positive().nullable().optional(),
    weight: z.number().int().min(1).max(1_000).optional(),
  })
  .strict();

/**
 * `API_KEYS_FILE`: JSON with tenants, their keys (as `sha256:<hex>` of the key, or the key
 * itself, hashed on load) and limits, plus admin keys:
 * `{"tenants": {"acme": {"keys": ["sha256:…"], "limits": {"requests_per_minute": 600}}}, "admin_keys": ["sha256:…"]}`.
 */
export const apiKeysFileSchema = z
  .object({
    tenants: z
      .record(
        z.string(),
        z.object({ keys: z.array(z.string().min(1)).min(1), limits: limitsSchema.optional() }).strict(),
      )
      // Checked here rather than on the record's key schema: zod reports a refused record key
      // only as "Invalid key in record", without saying what a tenant name must be.
      .superRefine((tenants, ctx) => {
        for (const name of Object.keys(tenants)) {
          if (!TENANT_NAME.test(name))
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: 'tenant names must match [A-Za-z0-9_-]{1,64}',
            });
        }
      }),
    admin_keys: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type ApiKeysFile = z.infer<typeof apiKeysFileSchema>;

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** A configured key as its hash; a key given in clear must carry the `fq_` prefix. */
function keyHash(entry: string, where: string): string {
  const hashed = HASHED.exec(entry);
  if (hashed) return hashed[1]!;
  if (!entry.startsWith(API_KEY_PREFIX)) {
    throw new Error(`${where}: API keys start with "${API_KEY_PREFIX}" (or give their hash as sha256:<hex>)`);
  }
  return hashApiKey(entry);
}

export interface TenantRegistryConfig {
  /** `API_KEYS`: `fq_key:tenant,…`. */
  apiKeys?: string;
  /** `API_KEYS_FILE`, parsed. */
  file?: ApiKeysFile;
  /** `ADMIN_API_KEY`: an admin key (or its `sha256:` hash). */
  adminKey?: string;
  /** Limits of tenants that do not set their own. */
  defaultLimits: TenantLimits;
}

/**
 * Tenants and their keys, kept as SHA-256 hashes only (a leaked config or heap dump does
 * not give keys away).
 */
export function createTenantRegistry(config: TenantRegistryConfig): TenantRegistry {
  const byHash = new Map<string, Caller>();
  const limits = new Map<string, TenantLimits>();
  const add = (hash: string, caller: Caller) => {
    if (byHash.has(hash)) throw new Error('API keys: the same key is configured twice');
    // Admin keys act as tenant `admin`: a tenant of that name would share their jobs and uploads.
    if (!caller.admin && caller.tenant === ADMIN_TENANT)
      throw new Error(`API keys: the tenant name "${ADMIN_TENANT}" is reserved for admin keys`);
    byHash.set(hash, caller);
  };

  for (const pair of (config.apiKeys ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = pair.lastIndexOf(':');
    const key = colon > 0 ? pair.slice(0, colon) : pair;
    const tenant = colon > 0 ? pair.slice(colon + 1) : 'default';
    if (!TENANT_NAME.test(tenant))
      throw new Error(`API_KEYS: tenant "${tenant}" must match [A-Za-z0-9_-]{1,64}`);
    add(keyHash(key, 'API_KEYS'), { tenant, admin: false });
  }
  for (const [tenant, entry] of Object.entries(config.file?.tenants ?? {})) {
    for (const key of entry.keys)
      add(keyHash(key, `API_KEYS_FILE tenant ${tenant}`), { tenant, admin: false });
    if (entry.limits) {
      const l = entry.limits;
      const d = config.defaultLimits;
      limits.set(tenant, {
        requestsPerMinute: l.requests_per_minute === undefined ? d.requestsPerMinute : l.requests_per_minute,
        maxQueuedJobs: l.max_queued_jobs === undefined ? d.maxQueuedJobs : l.max_queued_jobs,
        maxRunningJobs: l.max_running_jobs === undefined ? d.maxRunningJobs : l.max_running_jobs,
        dailySpendUsd: l.daily_spend_usd === undefined ? d.dailySpendUsd : l.daily_spend_usd,
        ...(l.weight === undefined ? {} : { weight: l.weight }),
      });
    }
  }
  const admins = [...(config.file?.admin_keys ?? []), ...(config.adminKey ? [config.adminKey] : [])];
  for (const key of admins) add(keyHash(key, 'admin keys'), { tenant: ADMIN_TENANT, admin: true });

  const openMode = byHash.size === 0;
  return {
    openMode,
    authenticate(key) {
      // Looked up by hash: the time taken says nothing about how close a guess was.
      return byHash.get(hashApiKey(key));
    },
    limitsOf(tenant) {
      if (openMode) return UNLIMITED;
      return limits.get(tenant) ?? config.defaultLimits;
    },
    tenants() {
      return [...new Set([...byHash.values()].filter((c) => !c.admin).map((c) => c.tenant))];
    },
  };
}
