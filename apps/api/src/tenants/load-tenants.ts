import { readFile } from 'node:fs/promises';
import type { ApiConfig } from '../config.js';
import { apiKeysFileSchema, createTenantRegistry, type TenantRegistry } from './tenant-registry.js';

/** The tenant registry from `API_KEYS`, `API_KEYS_FILE` and `ADMIN_API_KEY`; a bad file stops start-up. */
export async function loadTenantRegistry(config: ApiConfig): Promise<TenantRegistry> {
  let file: ReturnType<typeof apiKeysFileSchema.parse> | undefined;
  if (config.API_KEYS_FILE) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(config.API_KEYS_FILE, 'utf8'));
    } catch (err) {
      throw new Error(
        `API_KEYS_FILE: cannot read ${config.API_KEYS_FILE} as JSON: ${(err as Error).message}`,
      );
    }
    const parsed = apiKeysFileSchema.safeParse(raw);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(`API_KEYS_FILE: ${first?.path.join('.') || '(root)'}: ${first?.message}`);
    }
    file = parsed.data;
  }
  return createTenantRegistry({
    apiKeys: config.API_KEYS,
    file,
    adminKey: config.ADMIN_API_KEY,
    defaultLimits: {
      requestsPerMinute: config.TENANT_REQUESTS_PER_MINUTE ?? null,
      maxQueuedJobs: config.TENANT_MAX_QUEUED_JOBS ?? null,
      maxRunningJobs: config.TENANT_MAX_RUNNING_JOBS ?? null,
      dailySpendUsd: config.TENANT_DAILY_SPEND_USD ?? null,
    },
  });
}
