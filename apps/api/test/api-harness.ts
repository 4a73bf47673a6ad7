import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fluxq/core';
import { type RedisServer, startRedisServer } from '@fluxq/testing';
import { createApp } from '../src/app.js';
import { buildApiDeps } from '../src/build-deps.js';
import { loadApiConfig } from '../src/config.js';

export interface ApiHarness {
  url: string;
  deps: Awaited<ReturnType<typeof buildApiDeps>>;
  redis: RedisServer;
  storageDir: string;
  close(): Promise<void>;
}

/** The API in-process on a free port, against a private redis-server and a temp storage dir. */
export async function startApi(env: Record<string, string> = {}): Promise<ApiHarness> {
  const redis = await startRedisServer();
  const storageDir = await mkdtemp(join(tmpdir(), 'fluxq-api-'));
  const config = loadApiConfig({
    REDIS_URL: redis.url,
    STORAGE_DIR: storageDir,
    PORT: '0',
    FILES_SIGNING_SECRET: 'test-secret-test-secret-test-secret!',
    ...env,
  });
  const deps = await buildApiDeps(config, createLogger({ name: 'api-test', level: 'silent' }));
  const server: Server = await new Promise((resolve) => {
    const s = createApp(deps).listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // Signed URLs must point at the port we actually got.
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    deps,
    redis,
    storageDir,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await deps.close();
      await redis.stop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
