import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * A tenant's webhook settings in one Redis hash `{fluxq}:webhook-tenant:<tenant>`:
 * `secret` (the current `whsec_…`), `previous_secret` and `previous_until` (ms; during a
 * rotation deliveries are signed with both), and `disabled:<sha256(url)>` → JSON
 * `{url, at, reason}` for endpoints that answered 410 (skipped until re-enabled).
 */
export interface WebhookSettingsStore {
  /** The tenant's current secret, created on first use with `generate`. */
  secret(tenant: string): Promise<{ secret: string; previousUntilMs: number | null }>;
  /** A new current secret; the old one keeps signing for `overlapMs`. */
  rotate(tenant: string, overlapMs: number): Promise<{ secret: string; previousUntilMs: number }>;
  /** Every secret a delivery made now is signed with (current first). */
  signingSecrets(tenant: string): Promise<string[]>;
  disable(tenant: string, url: string, reason: string): Promise<void>;
  enable(tenant: string, url: string): Promise<boolean>;
  isDisabled(tenant: string, url: string): Promise<boolean>;
  disabled(tenant: string): Promise<Array<{ url: string; at: number; reason: string }>>;
}

const keyOf = recordKeys.webhookSettings;
const endpointField = (url: string) => `disabled:${createHash('sha256').update(url).digest('hex')}`;

export function createWebhookSettingsStore(
  redis: Redis,
  options: { generate: () => string; now?: () => number },
): WebhookSettingsStore {
  const now = options.now ?? Date.now;
  const previousUntil = (fields: Record<string, string>) => {
    const until = Number(fields.previous_until);
    return fields.previous_secret && until > now() ? until : null;
  };
  /** The tenant's settings, its secret created first if it has none yet. */
  const settingsOf = async (tenant: string) => {
    await redis.hsetnx(keyOf(tenant), 'secret', options.generate());
    return redis.hgetall(keyOf(tenant));
  };
  return {
    async secret(tenant) {
      const fields = await settingsOf(tenant);
      return { secret: fields.secret as string, previousUntilMs: previousUntil(fields) };
    },
    async rotate(tenant, overlapMs) {
      const secret = options.generate();
      const until = now() + overlapMs;
      await runScript<number>(redis, 'webhookSecretRotate', [keyOf(tenant)], [secret, String(until)]);
      return { secret, previousUntilMs: until };
    },
    async signingSecrets(tenant) {
      // Every delivery attempt calls this: one create-if-absent and one read.
      const fields = await settingsOf(tenant);
      const secret = fields.secret as string;
      return previousUntil(fields) ? [secret, fields.previous_secret as string] : [secret];
    },
    async disable(tenant, url, reason) {
      await redis.hset(keyOf(tenant), endpointField(url), JSON.stringify({ url, at: now(), reason }));
    },
    async enable(tenant, url) {
      return (await redis.hdel(keyOf(tenant), endpointField(url))) > 0;
    },
    async isDisabled(tenant, url) {
      return (await redis.hexists(keyOf(tenant), endpointField(url))) === 1;
    },
    async disabled(tenant) {
      const fields = await redis.hgetall(keyOf(tenant));
      return Object.entries(fields)
        .filter(([field]) => field.startsWith('disabled:'))
        .map(([, value]) => JSON.parse(value) as { url: string; at: number; reason: string });
    },
  };
}
