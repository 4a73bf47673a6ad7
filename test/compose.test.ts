import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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

const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as ComposeFile;
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

  it('runs each app from the same image with its own command', () => {
    expect(commandOf(service('api'))).toContain('apps/api/src/main.ts');
    expect(commandOf(service('worker'))).toContain('apps/worker/src/main.ts');
    expect(commandOf(service('fal-sim'))).toContain('apps/fal-sim/src/main.ts');
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

  it('runs the api by default', () => {
    expect(dockerfile).toMatch(/^CMD .*apps\/api\/src\/main\.ts/m);
  });
});
