import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFalSim, type FalSim, type FalSimOptions } from '@fluxq/fal-sim';
import {
  apiKeysOf,
  assertNoSecretsIn,
  findRedisServerBinary,
  getFreePort,
  type RedisServer,
  redisForTests,
  type Service,
  type ServiceRuntime,
  spawnService,
  startRedisServer,
  WELL_KNOWN_TEST_SECRETS,
} from '@fluxq/testing';

/** The whole system on real parts: private redis-server, fal-sim, API and worker processes. */
export interface Stack {
  apiUrl: string;
  sim: FalSim;
  redis: RedisServer;
  api: Service;
  workers: Service[];
  /** The STORAGE_DIR of each process: one shared, or the API's then each worker's (`separateStorageDirs`). */
  storageDirs: string[];
  /** Starts one more worker process. */
  startWorker(env?: Record<string, string | undefined>): Promise<Service>;
  close(): Promise<void>;
}

export interface StackOptions {
  sim?: FalSimOptions;
  /** Extra worker environment (e.g. shorter locks for crash tests). */
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string | undefined>;
  workers?: number;
  /** fal reports completions by webhook to the API (verified against the simulator's JWKS). */
  falWebhooks?: boolean;
  /**
   * Run on Redis the caller started (a Cluster or Sentinel set): these variables reach the API
   * and workers instead of a private redis-server's `REDIS_URL`; `stack.redis` is then unusable.
   */
  redisEnv?: Record<string, string>;
  /** Run the API and workers from their compiled dist/ with plain node. @defaultValue 'source' */
  runtime?: ServiceRuntime;
  /** Where the services' files are (a production layout elsewhere). @defaultValue the repository */
  root?: string;
  /** Storage variables for every process (e.g. an S3 server's `env()`). */
  storageEnv?: Record<string, string>;
  /** Each process its own empty STORAGE_DIR, as on separate machines. @defaultValue false */
  separateStorageDirs?: boolean;
}

const SIGNING_SECRET = 'e2e-signing-secret-e2e-signing-secret';

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redis = options.redisEnv ? externalRedis() : await stackRedis();
  const sim = await createFalSim({ timeScale: 0, failureRate: 0, ...options.sim });
  const storageDir = await mkdtemp(join(tmpdir(), 'fluxq-e2e-'));
  const storageDirs = [storageDir];
  const ownStorageDir = async () => {
    if (!options.separateStorageDirs) return storageDir;
    const dir = await mkdtemp(join(tmpdir(), 'fluxq-e2e-'));
    storageDirs.push(dir);
    return dir;
  };
  const port = await getFreePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const common = {
    ...(options.redisEnv ?? { REDIS_URL: redis.url }),
    STORAGE_DIR: storageDir,
    LOG_LEVEL: 'info',
    JOB_BACKOFF_MS: '50',
    // Test receivers and image servers listen on loopback; the SSRF guard refuses it otherwise.
    URL_ALLOW_LIST: '127.0.0.1',
    FILES_SIGNING_SECRET: SIGNING_SECRET,
    PUBLIC_BASE_URL: apiUrl,
    ...options.storageEnv,
  };
  const where = { runtime: options.runtime, root: options.root };
  const api = await spawnService({
    name: 'api',
    entry: 'apps/api/src/main.ts',
    ...where,
    env: {
      ...common,
      PORT: String(port),
      FILES_SIGNING_SECRET: SIGNING_SECRET,
      FAL_JWKS_URL: `${sim.url}/.well-known/jwks.json`,
      ...options.apiEnv,
    },
    ready: { url: `${apiUrl}/healthz` },
  });
  const workers: Service[] = [];
  const startWorker = async (env: Record<string, string | undefined> = {}) => {
    const worker = await spawnService({
      name: `worker-${workers.length + 1}`,
      entry: 'apps/worker/src/main.ts',
      ...where,
      env: {
        ...common,
        STORAGE_DIR: await ownStorageDir(),
        // No FAL_KEY, as `npm start` runs it: the simulator still gets an Authorization header.
        FAL_BASE_URL: sim.url,
        FAL_KEY: undefined,
        FAL_POLL_INTERVAL_MS: '50',
        ...(options.falWebhooks ? { FAL_WEBHOOK_URL: `${apiUrl}/fal/webhook` } : {}),
        WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
        ...options.workerEnv,
        ...env,
      },
      ready: { ipcEvent: 'ready' },
    });
    workers.push(worker);
    return worker;
  };
  for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();

  return {
    apiUrl,
    sim,
    redis,
    api,
    workers,
    storageDirs,
    startWorker,
    async close() {
      await Promise.allSettled([api.stop(), ...workers.map((w) => w.stop())]);
      await sim.close();
      await redis.stop();
      for (const dir of storageDirs) await rm(dir, { recursive: true, force: true });
      // No API key, fal key or signing secret in any process's output (`whsec_…` by shape).
      assertNoSecretsIn(
        'e2e stack',
        [api, ...workers].flatMap((service) => service.logs()),
        [
          ...apiKeysOf(options.apiEnv?.API_KEYS),
          options.apiEnv?.ADMIN_API_KEY,
          options.workerEnv?.FAL_KEY,
          // the placeholder key workers send the simulator when FAL_KEY is unset
          'fluxq-simulator',
          SIGNING_SECRET,
          options.storageEnv?.AWS_SECRET_ACCESS_KEY,
          ...WELL_KNOWN_TEST_SECRETS,
        ],
      );
    },
  };
}

/**
 * A private redis-server (AOF on, so crash tests can `kill()`/`restart()` it) when one is on PATH;
 * otherwise what `redisForTests` finds (Testcontainers when a Docker engine answers), with only
 * `url` and `stop()`. `FLUXQ_TEST_REDIS=testcontainers` forces the second path.
 */
async function stackRedis(): Promise<RedisServer> {
  if (process.env.FLUXQ_TEST_REDIS?.trim() !== 'testcontainers' && findRedisServerBinary()) {
    return startRedisServer({ appendonly: true });
  }
  const found = await redisForTests({ appendonly: true });
  const unusable = async () => {
    throw new Error(`Redis from ${found.source} cannot be killed or restarted by a test`);
  };
  return {
    url: found.url,
    port: Number(new URL(found.url).port),
    dir: '',
    stop: found.stop,
    kill: unusable,
    restart: unusable,
    logs: () => [],
  };
}

/** Stands in for `stack.redis` when the caller owns Redis: only `stop()` works (and does nothing). */
function externalRedis(): RedisServer {
  const unusable = () => {
    throw new Error('this stack runs on Redis its test started (redisEnv): use that instead of stack.redis');
  };
  return {
    get url(): string {
      return unusable();
    },
    get port(): number {
      return unusable();
    },
    get dir(): string {
      return unusable();
    },
    stop: async () => {},
    kill: async () => unusable(),
    restart: async () => unusable(),
    logs: () => [],
  };
}
