import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../src/config.js';
import { loadTenantRegistry } from '../src/tenants/load-tenants.js';
import {
  createTenantRegistry,
  hashApiKey,
  type TenantLimits,
  type TenantRegistryConfig,
  UNLIMITED,
} from '../src/tenants/tenant-registry.js';

const DEFAULTS: TenantLimits = {
  requestsPerMinute: 60,
  maxQueuedJobs: 100,
  maxRunningJobs: 5,
  dailySpendUsd: 10,
};

const registry = (config: Partial<TenantRegistryConfig>) =>
  createTenantRegistry({ defaultLimits: DEFAULTS, ...config });

const sha = (key: string) => `sha256:${hashApiKey(key)}`;

describe('createTenantRegistry', () => {
  describe('keys are kept as SHA-256 hashes', () => {
    it('hashes with plain SHA-256, hex', () => {
      // echo -n fq_test | sha256sum
      expect(hashApiKey('fq_test')).toMatch(/^[0-9a-f]{64}$/);
      expect(hashApiKey('fq_test')).toBe(hashApiKey('fq_test'));
      expect(hashApiKey('fq_test')).not.toBe(hashApiKey('fq_tesT'));
    });

    it('authenticates the clear key of a sha256:<hex> entry in API_KEYS, the file and the admin key', () => {
      const tenants = registry({
        apiKeys: `${sha('fq_acme_secret')}:acme`,
        file: { tenants: { globex: { keys: [sha('fq_globex_secret')] } } },
        adminKey: sha('fq_admin_secret'),
      });
      expect(tenants.authenticate('fq_acme_secret')).toEqual({ tenant: 'acme', admin: false });
      expect(tenants.authenticate('fq_globex_secret')).toEqual({ tenant: 'globex', admin: false });
      expect(tenants.authenticate('fq_admin_secret')).toEqual({ tenant: 'admin', admin: true });
    });

    it('does not let the stored hash stand in for the key', () => {
      const tenants = registry({ apiKeys: `${sha('fq_acme_secret')}:acme` });
      expect(tenants.authenticate(sha('fq_acme_secret'))).toBeUndefined();
      expect(tenants.authenticate(hashApiKey('fq_acme_secret'))).toBeUndefined();
    });

    it('authenticates a clear key given in clear, and nothing close to it', () => {
      const tenants = registry({ apiKeys: 'fq_acme_secret:acme' });
      expect(tenants.authenticate('fq_acme_secret')).toEqual({ tenant: 'acme', admin: false });
      for (const wrong of ['fq_acme_secreT', 'fq_acme_secret ', 'fq_acme_secre', '', 'acme']) {
        expect(tenants.authenticate(wrong)).toBeUndefined();
      }
    });

    it('only takes lowercase 64-hex hashes as hashes (anything else is a clear key and needs fq_)', () => {
      expect(() => registry({ apiKeys: `sha256:${'A'.repeat(64)}:acme` })).toThrow(/fq_/);
      expect(() => registry({ apiKeys: `sha256:${'a'.repeat(63)}:acme` })).toThrow(/fq_/);
    });
  });

  describe('clear keys need the fq_ prefix', () => {
    it.each([
      ['API_KEYS', { apiKeys: 'sk_acme:acme' }, /^API_KEYS: API keys start with "fq_"/],
      [
        'API_KEYS_FILE',
        { file: { tenants: { acme: { keys: ['sk_acme'] } } } },
        /^API_KEYS_FILE tenant acme: API keys start with "fq_"/,
      ],
      ['ADMIN_API_KEY', { adminKey: 'admin-secret' }, /^admin keys: API keys start with "fq_"/],
      ['admin_keys', { file: { tenants: {}, admin_keys: ['admin-secret'] } }, /^admin keys: .*fq_/],
    ])('%s: a clear error names where the key came from', (_where, config, message) => {
      expect(() => registry(config)).toThrow(message);
    });

    it('never repeats the refused key in the error', () => {
      expect(() => registry({ apiKeys: 'sk_very_secret_value:acme' })).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining('sk_very_secret_value') }),
      );
    });
  });

  describe('duplicate keys are refused', () => {
    it.each([
      ['twice in API_KEYS', { apiKeys: 'fq_same:acme,fq_same:globex' }],
      [
        'in API_KEYS and the file',
        { apiKeys: 'fq_same:acme', file: { tenants: { globex: { keys: ['fq_same'] } } } },
      ],
      ['in clear and as its hash', { apiKeys: `fq_same:acme,${sha('fq_same')}:acme` }],
      ['as a tenant key and the admin key', { apiKeys: 'fq_same:acme', adminKey: 'fq_same' }],
      [
        'as a file admin key and ADMIN_API_KEY',
        { file: { tenants: {}, admin_keys: ['fq_same'] }, adminKey: sha('fq_same') },
      ],
    ])('%s', (_case, config) => {
      expect(() => registry(config)).toThrow('API keys: the same key is configured twice');
    });

    it('lets one tenant have several keys', () => {
      const tenants = registry({
        apiKeys: 'fq_one:acme,fq_two:acme',
        file: { tenants: { acme: { keys: ['fq_three'] } } },
      });
      for (const key of ['fq_one', 'fq_two', 'fq_three'])
        expect(tenants.authenticate(key)).toEqual({ tenant: 'acme', admin: false });
      expect(tenants.tenants()).toEqual(['acme']);
    });
  });

  describe('API_KEYS parsing', () => {
    it('trims pairs, skips empty ones, and puts a key without a tenant in "default"', () => {
      const tenants = registry({ apiKeys: ' fq_a:acme , ,fq_b ,' });
      expect(tenants.authenticate('fq_a')).toEqual({ tenant: 'acme', admin: false });
      expect(tenants.authenticate('fq_b')).toEqual({ tenant: 'default', admin: false });
      expect(tenants.tenants().sort()).toEqual(['acme', 'default']);
    });

    it('refuses a tenant name outside [A-Za-z0-9_-]{1,64}', () => {
      expect(() => registry({ apiKeys: 'fq_a:ac me' })).toThrow(/API_KEYS: tenant "ac me" must match/);
      expect(() => registry({ apiKeys: `fq_a:${'t'.repeat(65)}` })).toThrow(/must match/);
    });
  });

  describe('per-tenant limits', () => {
    it('takes a tenant’s limits from the file field by field, the rest from the defaults', () => {
      const tenants = registry({
        apiKeys: 'fq_env:envtenant',
        file: {
          tenants: {
            acme: { keys: ['fq_acme'], limits: { requests_per_minute: 600, max_running_jobs: null } },
            globex: { keys: ['fq_globex'], limits: { daily_spend_usd: 2.5, max_queued_jobs: 7 } },
            plain: { keys: ['fq_plain'] },
          },
        },
      });
      expect(tenants.limitsOf('acme')).toEqual({
        requestsPerMinute: 600,
        maxQueuedJobs: 100,
        // null in the file means no limit, not "use the default".
        maxRunningJobs: null,
        dailySpendUsd: 10,
      });
      expect(tenants.limitsOf('globex')).toEqual({
        requestsPerMinute: 60,
        maxQueuedJobs: 7,
        maxRunningJobs: 5,
        dailySpendUsd: 2.5,
      });
      expect(tenants.limitsOf('plain')).toEqual(DEFAULTS);
      expect(tenants.limitsOf('envtenant')).toEqual(DEFAULTS);
    });

    it('gives open mode no limits whatever the defaults say', () => {
      expect(registry({}).limitsOf('local')).toEqual(UNLIMITED);
    });
  });

  describe('admin keys', () => {
    it('authenticate as admin (ADMIN_API_KEY and the file’s admin_keys), and are no tenant', () => {
      const tenants = registry({
        apiKeys: 'fq_acme:acme',
        file: { tenants: {}, admin_keys: ['fq_file_admin', sha('fq_hashed_admin')] },
        adminKey: 'fq_env_admin',
      });
      for (const key of ['fq_file_admin', 'fq_hashed_admin', 'fq_env_admin'])
        expect(tenants.authenticate(key)).toEqual({ tenant: 'admin', admin: true });
      expect(tenants.authenticate('fq_acme')).toEqual({ tenant: 'acme', admin: false });
      expect(tenants.tenants()).toEqual(['acme']);
      expect(tenants.openMode).toBe(false);
    });

    it('reserve the tenant name "admin": such a tenant would share the admin keys’ jobs and uploads', () => {
      const reserved = 'API keys: the tenant name "admin" is reserved for admin keys';
      expect(() => registry({ apiKeys: 'fq_x:admin' })).toThrow(reserved);
      expect(() => registry({ file: { tenants: { admin: { keys: ['fq_x'] } } } })).toThrow(reserved);
      // Names are case-sensitive, as everywhere else.
      expect(registry({ apiKeys: 'fq_x:Admin' }).authenticate('fq_x')).toEqual({
        tenant: 'Admin',
        admin: false,
      });
    });

    it('an admin key alone is not open mode', () => {
      const tenants = registry({ adminKey: 'fq_admin' });
      expect(tenants.openMode).toBe(false);
      expect(tenants.authenticate('fq_other')).toBeUndefined();
      expect(tenants.tenants()).toEqual([]);
    });
  });

  describe('open mode', () => {
    it.each([
      ['nothing configured', {}],
      ['empty API_KEYS', { apiKeys: '' }],
      ['API_KEYS of blanks and commas', { apiKeys: ' , ,' }],
      ['a file without tenants', { file: { tenants: {} } }],
    ])('%s: open mode, no key authenticates, no tenants', (_case, config) => {
      const tenants = registry(config);
      expect(tenants.openMode).toBe(true);
      expect(tenants.authenticate('fq_anything')).toBeUndefined();
      expect(tenants.tenants()).toEqual([]);
      expect(tenants.limitsOf('local')).toEqual(UNLIMITED);
    });
  });
});

describe('loadTenantRegistry (API_KEYS_FILE)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fluxq-tenants-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const fileWith = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  const load = (env: Record<string, string>) => loadTenantRegistry(loadApiConfig(env));

  it('loads tenants, hashed keys, limits and admin keys from the file, with API_KEYS and ADMIN_API_KEY', async () => {
    const path = await fileWith(
      'good.json',
      JSON.stringify({
        tenants: {
          acme: { keys: [sha('fq_acme_file')], limits: { requests_per_minute: 600 } },
          globex: { keys: ['fq_globex_clear'] },
        },
        admin_keys: [sha('fq_file_admin')],
      }),
    );
    const tenants = await load({
      API_KEYS_FILE: path,
      API_KEYS: 'fq_env_key:envtenant',
      ADMIN_API_KEY: 'fq_env_admin',
      TENANT_REQUESTS_PER_MINUTE: '30',
      TENANT_MAX_QUEUED_JOBS: '50',
    });
    expect(tenants.openMode).toBe(false);
    expect(tenants.authenticate('fq_acme_file')).toEqual({ tenant: 'acme', admin: false });
    expect(tenants.authenticate('fq_globex_clear')).toEqual({ tenant: 'globex', admin: false });
    expect(tenants.authenticate('fq_env_key')).toEqual({ tenant: 'envtenant', admin: false });
    expect(tenants.authenticate('fq_file_admin')).toEqual({ tenant: 'admin', admin: true });
    expect(tenants.authenticate('fq_env_admin')).toEqual({ tenant: 'admin', admin: true });
    expect(tenants.tenants().sort()).toEqual(['acme', 'envtenant', 'globex']);
    expect(tenants.limitsOf('acme')).toEqual({
      requestsPerMinute: 600,
      maxQueuedJobs: 50,
      maxRunningJobs: null,
      dailySpendUsd: null,
    });
    expect(tenants.limitsOf('globex')).toEqual({
      requestsPerMinute: 30,
      maxQueuedJobs: 50,
      maxRunningJobs: null,
      dailySpendUsd: null,
    });
  });

  it('is open mode with neither API_KEYS nor API_KEYS_FILE nor ADMIN_API_KEY', async () => {
    expect((await load({})).openMode).toBe(true);
  });

  it('stops start-up on a file that is not JSON, naming the file', async () => {
    const path = await fileWith('broken.json', '{"tenants": {"acme": ');
    await expect(load({ API_KEYS_FILE: path })).rejects.toThrow(
      new RegExp(`^API_KEYS_FILE: cannot read ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} as JSON: `),
    );
  });

  it('stops start-up on a file that does not exist, naming the file', async () => {
    const path = join(dir, 'missing.json');
    await expect(load({ API_KEYS_FILE: path })).rejects.toThrow(`API_KEYS_FILE: cannot read ${path} as JSON`);
  });

  it.each([
    ['a tenant without keys', { tenants: { acme: { keys: [] } } }, /^API_KEYS_FILE: tenants\.acme\.keys: /],
    [
      'a key that is not a string',
      { tenants: { acme: { keys: [42] } } },
      /^API_KEYS_FILE: tenants\.acme\.keys\.0: /,
    ],
    [
      'a limit that is not a positive integer',
      { tenants: { acme: { keys: ['fq_a'], limits: { requests_per_minute: -1 } } } },
      /^API_KEYS_FILE: tenants\.acme\.limits\.requests_per_minute: /,
    ],
    [
      'an unknown limit (typo)',
      { tenants: { acme: { keys: ['fq_a'], limits: { request_per_minute: 5 } } } },
      /^API_KEYS_FILE: tenants\.acme\.limits: .*request_per_minute/,
    ],
    ['an unknown top-level field', { tenants: {}, admins: ['fq_x'] }, /^API_KEYS_FILE: \(root\): .*admins/],
    ['no tenants at all', { admin_keys: ['fq_x'] }, /^API_KEYS_FILE: tenants: /],
    [
      'a bad tenant name',
      { tenants: { 'ac me': { keys: ['fq_a'] } } },
      /^API_KEYS_FILE: tenants\.ac me: tenant names must match \[A-Za-z0-9_-\]\{1,64\}$/,
    ],
  ])('stops start-up on %s, naming the path inside the file', async (_case, content, message) => {
    const path = await fileWith('bad-schema.json', JSON.stringify(content));
    await expect(load({ API_KEYS_FILE: path })).rejects.toThrow(message);
  });

  it('stops start-up on a clear key without fq_ in the file, naming the tenant', async () => {
    const path = await fileWith(
      'no-prefix.json',
      JSON.stringify({ tenants: { acme: { keys: ['sk_live'] } } }),
    );
    await expect(load({ API_KEYS_FILE: path })).rejects.toThrow(
      /^API_KEYS_FILE tenant acme: API keys start with "fq_"/,
    );
  });
});
