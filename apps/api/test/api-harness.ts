import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScheduler } from '@fluxq/queue';
import { createLogger } from '@fluxq/runtime';
import {
  apiKeysOf,
  assertNoSecretsIn,
  type RedisServer,
  startRedisServer,
  WELL_KNOWN_TEST_SECRETS,
} from '@fluxq/testing';
import type { Resolve } from '@fluxq/webhooks';
import { createApp } from '../src/app.js';
import { buildApiDeps } from '../src/build-deps.js';
import { loadApiConfig } from '../src/config.js';

export interface ApiHarness {
  url: string;
  deps: Awaited<ReturnType<typeof buildApiDeps>>;
  redis: RedisServer;
  storageDir: string;
  /** Every line the API logged so far (JSON, debug level and up unless `LOG_LEVEL` says otherwise). */
  logs(): string[];
  /** Stops everything; throws when an API key, the signing secret or a `whsec_` secret was logged. */
  close(): Promise<void>;
}

export interface StartApiOptions {
  /**
   * A redis-server to share (e.g. with another API instance, as two processes share Redis
   * in production); `close()` leaves it running. @defaultValue a private one
   */
  redis?: RedisServer;
  /**
   * Name resolution for the URL checks at submit, for tests of host names that must resolve
   * (or fail to) in a way this offline machine's DNS cannot show. @defaultValue the system resolver
   */
  resolve?: Resolve;
  /**
   * fal slots, stored as a worker stores its FAL_MAX_CONCURRENCY: accepted jobs are granted
   * and enter the images queue while slots are free. 0 = no worker yet, everything waits in line.
   * @defaultValue 1000
   */
  falSlots?: number;
}

/** The API in-process on a free port, against a private redis-server and a temp storage dir. */
export async function startApi(
  env: Record<string, string> = {},
  options: StartApiOptions = {},
): Promise<ApiHarness> {
  const redis = options.redis ?? (await startRedisServer());
  const storageDir = await mkdtemp(join(tmpdir(), 'fluxq-api-'));
  const config = loadApiConfig({
    REDIS_URL: redis.url,
    STORAGE_DIR: storageDir,
    PORT: '0',
    FILES_SIGNING_SECRET: 'test-secret-test-secret-test-secret!',
    ...env,
  });
  // The API's log lines, captured: `close()` fails the test file if a secret is in one. No
  // `secrets` masking here (main.ts adds it as a last resort): the code must not log them at all.
  const lines: string[] = [];
  const logger = createLogger({
    name: 'api-test',
    level: env.LOG_LEVEL ?? 'debug',
    destination: { write: (line: string) => void lines.push(line) },
  });
  const deps = await buildApiDeps(config, logger);
  if (options.resolve) deps.webhooks.resolve = options.resolve;
  await createScheduler(deps.redis, { limit: options.falSlots ?? 1_000 }).grant();
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
    logs: () => [...lines],
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await deps.close();
      if (!options.redis) await redis.stop();
      await rm(storageDir, { recursive: true, force: true });
      assertNoSecretsIn('api (in-process)', lines, [
        ...apiKeysOf(config.API_KEYS),
        config.ADMIN_API_KEY,
        config.FILES_SIGNING_SECRET,
        ...WELL_KNOWN_TEST_SECRETS,
      ]);
    },
  };
}
