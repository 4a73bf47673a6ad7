import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadApiConfig } from '../apps/api/src/config.js';
import { loadWorkerConfig } from '../apps/worker/src/config.js';
import { interpolateCompose } from './compose-interpolation.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  profiles?: string[];
  environment?: Record<string, string | null> | string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const composeText = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');
// Compose honours YAML merge keys (`<<: *fluxq-storage`); so must the parser here.
const compose = parse(composeText, { merge: true }) as ComposeFile;
/** The file as `docker compose config` would see it with only `shell` exported. */
const resolvedWith = (shell: Record<string, string>): ComposeFile =>
  parse(interpolateCompose(composeText, shell), { merge: true }) as ComposeFile;
/** A service's environment as the container gets it: bare keys come from the shell or stay unset. */
const containerEnv = (file: ComposeFile, name: string, shell: Record<string, string>) => {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(file.services[name]?.environment ?? {})) {
    const resolved = value ?? shell[key];
    if (resolved !== undefined && resolved !== null) env[key] = String(resolved);
  }
  return env;
};
const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');

const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const commandOf = (s: ComposeService) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));
const dependsOn = (s: ComposeService) =>
  Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
const environmentOf = (s: ComposeService): Record<string, string | null> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((entry) => [entry.split('=')[0], entry.split('=')[1] ?? null]))
    : (s.environment ?? {});

describe('docker-compose.yml', () => {
  it('has redis, api and worker, and fal-sim behind the sim profile', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['redis', 'api', 'worker', 'fal-sim']),
    );
    expect(service('fal-sim').profiles).toContain('sim');
    for (const name of ['redis', 'api', 'worker']) expect(service(name).profiles).toBeUndefined();
  });

  it('runs Redis with AOF and without eviction, on a named volume', () => {
    const redis = service('redis');
    expect(commandOf(redis)).toContain('--appendonly yes');
    expect(commandOf(redis)).toContain('--maxmemory-policy noeviction');
    expect(redis.volumes).toContain('redis-data:/data');
  });

  it('starts api and worker after Redis, pointed at it', () => {
    for (const name of ['api', 'worker']) {
      expect(dependsOn(service(name))).toContain('redis');
      expect(environmentOf(service(name)).REDIS_URL).toBe('redis://redis:6379');
    }
    expect(environmentOf(service('api')).HOST).toBe('0.0.0.0');
  });

  it('shares the outputs volume between api and worker', () => {
    const outputs = (s: ComposeService) => s.volumes?.find((volume) => volume.startsWith('outputs:'));
    expect(outputs(service('api'))).toBe('outputs:/app/.data/storage');
    expect(outputs(service('worker'))).toBe(outputs(service('api')));
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(['redis-data', 'outputs']));
  });

  it('health-checks api and worker on their /healthz and /readyz', () => {
    const probe = (name: string) =>
      JSON.stringify((compose.services[name] as { healthcheck?: unknown }).healthcheck);
    expect(probe('api')).toContain('http://127.0.0.1:8080/healthz');
    const workerPort = environmentOf(service('worker')).METRICS_PORT;
    expect(workerPort).toBeTruthy();
    expect(probe('worker')).toContain(`http://127.0.0.1:${workerPort}/readyz`);
  });

  it('runs each app from the same image with its own command', () => {
    // Compiled JavaScript with plain node: the image has no tsx (test/production-image.test.ts).
    for (const name of ['api', 'worker', 'fal-sim'])
      expect(commandOf(service(name))).toBe(`node apps/${name}/dist/main.js`);
  });
});

describe('docker-compose.yml secrets and profiles', () => {
  it('refuses to start without FILES_SIGNING_SECRET, naming it', () => {
    expect(() => resolvedWith({})).toThrow(/FILES_SIGNING_SECRET/);
    expect(() => resolvedWith({ FILES_SIGNING_SECRET: '' })).toThrow(/FILES_SIGNING_SECRET/);
  });

  it('gives api and worker the same signing secret and public URL', () => {
    const shell = { FILES_SIGNING_SECRET: 'a'.repeat(64), PUBLIC_BASE_URL: 'https://fluxq.example' };
    const file = resolvedWith(shell);
    const api = containerEnv(file, 'api', shell);
    const worker = containerEnv(file, 'worker', shell);
    expect(api.FILES_SIGNING_SECRET).toBe(shell.FILES_SIGNING_SECRET);
    expect(worker.FILES_SIGNING_SECRET).toBe(api.FILES_SIGNING_SECRET);
    expect(worker.PUBLIC_BASE_URL).toBe(api.PUBLIC_BASE_URL);
  });

  it('requires the signing secret, and gives api and worker every shared secret from one shell variable', () => {
    const api = service('api').environment as Record<string, string | null>;
    const worker = service('worker').environment as Record<string, string | null>;
    const shared = Object.keys(api).filter((key) => key in worker && /SECRET|TOKEN|PASSWORD/.test(key));
    expect(shared).toEqual(expect.arrayContaining(['FILES_SIGNING_SECRET', 'AWS_SECRET_ACCESS_KEY']));
    // Invented per process it would differ between them: required, no default.
    for (const env of [api, worker])
      expect(env.FILES_SIGNING_SECRET).toMatch(/^\$\{FILES_SIGNING_SECRET:\?.+\}$/);
    for (const key of shared) {
      expect(api[key]).toMatch(new RegExp(`^\\$\\{${key}[:}?-]`));
      expect(worker[key]).toBe(api[key]);
    }
  });

  it('points the worker at the simulator under --profile sim with nothing but the secret exported', () => {
    const shell = { FILES_SIGNING_SECRET: 'b'.repeat(64) };
    const config = loadWorkerConfig(containerEnv(resolvedWith(shell), 'worker', shell));
    expect(config.FAL_BASE_URL).toBe('http://fal-sim:8090');
    expect(config.FAL_REST_URL).toBe('http://fal-sim:8090');
  });

  it('calls fal.ai, not the simulator, once FAL_KEY is exported', () => {
    const shell = { FILES_SIGNING_SECRET: 'c'.repeat(64), FAL_KEY: 'id:secret' };
    const config = loadWorkerConfig(containerEnv(resolvedWith(shell), 'worker', shell));
    expect(config.FAL_BASE_URL).toBe('https://queue.fal.run');
    expect(config.FAL_KEY).toBe('id:secret');
  });
});

describe('Dockerfile', () => {
  it('is multi-stage and runs as a non-root user', () => {
    const stages = dockerfile.match(/^FROM\s+\S+\s+AS\s+\S+/gim) ?? [];
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gim)].map((match) => match[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });
});

describe('docker-compose.yml s3 profile', () => {
  const shell = { FILES_SIGNING_SECRET: 'd'.repeat(64), STORAGE_DRIVER: 's3' };

  it('runs MinIO and a one-shot minio/mc bucket maker only under --profile s3', () => {
    expect(service('minio').profiles).toEqual(['s3']);
    expect(service('minio').image).toMatch(/^minio\/minio:/);
    expect(service('minio-init').profiles).toEqual(['s3']);
    expect(service('minio-init').image).toMatch(/^minio\/mc:/);
    expect(service('minio-init').depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    expect(JSON.stringify((compose.services.minio as { healthcheck?: unknown }).healthcheck)).toContain(
      'ready',
    );
  });

  it('starts api and worker after the bucket exists, and without it when the profile is off', () => {
    for (const name of ['api', 'worker']) {
      expect((service(name).depends_on as Record<string, unknown>)['minio-init']).toEqual({
        condition: 'service_completed_successfully',
        required: false,
      });
    }
  });

  it('creates the bucket api and worker use, with the retention as a lifecycle rule', () => {
    const file = resolvedWith({ ...shell, OUTPUT_RETENTION_DAYS: '7' });
    const init = containerEnv(file, 'minio-init', shell);
    const script = commandOf(file.services['minio-init']!);
    expect(script).toContain('mc mb --ignore-existing "local/$S3_BUCKET"');
    expect(script).toContain('"Expiration":{"Days":%s}');
    expect(script).toContain('"$OUTPUT_RETENTION_DAYS" | mc ilm import "local/$S3_BUCKET"');
    expect(init.OUTPUT_RETENTION_DAYS).toBe('7');
    const api = loadApiConfig(containerEnv(file, 'api', shell));
    expect(api.S3_BUCKET).toBe(init.S3_BUCKET);
    expect(api.OUTPUT_RETENTION_DAYS).toBe(7);
  });

  it('points api and worker at MinIO (path-style, its credentials) once STORAGE_DRIVER=s3', () => {
    const file = resolvedWith(shell);
    const minio = containerEnv(file, 'minio', shell);
    for (const env of [containerEnv(file, 'api', shell), containerEnv(file, 'worker', shell)]) {
      expect(env.AWS_ACCESS_KEY_ID).toBe(minio.MINIO_ROOT_USER);
      expect(env.AWS_SECRET_ACCESS_KEY).toBe(minio.MINIO_ROOT_PASSWORD);
    }
    const api = loadApiConfig(containerEnv(file, 'api', shell));
    const worker = loadWorkerConfig(containerEnv(file, 'worker', shell));
    for (const config of [api, worker]) {
      expect(config).toMatchObject({
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: 'http://minio:9000',
        S3_FORCE_PATH_STYLE: true,
        S3_REGION: 'us-east-1',
      });
    }
    // Presigned URLs name the address MinIO is published on, which clients on the host reach.
    const published = (file.services.minio as { ports?: string[] }).ports ?? [];
    const publicUrl = new URL(api.S3_PUBLIC_ENDPOINT!);
    expect(published).toContain(`${publicUrl.hostname}:${publicUrl.port}:9000`);
    expect(worker.S3_PUBLIC_ENDPOINT).toBe(api.S3_PUBLIC_ENDPOINT);
  });

  it('keeps local disk the default when STORAGE_DRIVER is not exported', () => {
    const plain = { FILES_SIGNING_SECRET: 'e'.repeat(64) };
    const file = resolvedWith(plain);
    expect(loadApiConfig(containerEnv(file, 'api', plain)).STORAGE_DRIVER).toBe('local');
    expect(loadWorkerConfig(containerEnv(file, 'worker', plain)).STORAGE_DRIVER).toBe('local');
  });
});
