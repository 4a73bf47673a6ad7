import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServerBinary, getFreePort, type RedisServer, startRedisServer } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, redisTargetFromEnv, waitForRedis } from '../src/index.js';

/**
 * `rediss://` against a real redis-server with TLS on (a private CA made with openssl): the
 * factory's connection talks TLS and checks the certificate against REDIS_TLS_CA_FILE.
 * Needs redis-server itself (a TLS build) and openssl, so it is skipped without them.
 */
const runnable = Boolean(findRedisServerBinary()) && process.env.FLUXQ_TEST_REDIS !== 'testcontainers';

let dir: string;
let server: RedisServer;
let tlsPort: number;

beforeAll(async () => {
  if (!runnable) return;
  dir = mkdtempSync(join(tmpdir(), 'fluxq-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=fluxq test CA',
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  tlsPort = await getFreePort();
  server = await startRedisServer({
    args: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      join(dir, 'server.pem'),
      '--tls-key-file',
      join(dir, 'server.key'),
      '--tls-ca-cert-file',
      join(dir, 'ca.pem'),
      '--tls-auth-clients',
      'no',
    ],
  });
}, 30_000);
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(runnable)('rediss:// (TLS)', () => {
  it('connects over TLS and verifies the server against REDIS_TLS_CA_FILE', async () => {
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const redis = createRedis({
      target: redisTargetFromEnv({ REDIS_URL: url, REDIS_TLS_CA_FILE: join(dir, 'ca.pem') }),
      role: 'api',
    });
    try {
      expect(await waitForRedis(redis)).toBe(true);
      await redis.set('{fluxq}:tls-probe', 'over tls');
      expect(await redis.get('{fluxq}:tls-probe')).toBe('over tls');
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a server whose certificate the CA did not sign', async () => {
    const redis = createRedis({
      target: redisTargetFromEnv({ REDIS_URL: `rediss://127.0.0.1:${tlsPort}` }),
      role: 'api',
    });
    try {
      expect(await waitForRedis(redis, 1_500)).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
