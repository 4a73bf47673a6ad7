import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFalSim, type FalSim, type FalSimOptions } from '@fluxq/fal-sim';
import { getFreePort, type RedisServer, type Service, spawnService, startRedisServer } from '@fluxq/testing';

/** A private redis-server, an in-process fal-sim at zero latency, and an API process. */
export interface BenchStack {
  redis: RedisServer;
  sim: FalSim;
  api: Service;
  apiUrl: string;
  /** `env` is added to the worker's environment (e.g. METRICS_PORT). */
  startWorker(concurrency: number, env?: Record<string, string>): Promise<Service>;
  close(): Promise<void>;
}

export interface BenchStackOptions {
  /** Reaches the API and every worker (e.g. an S3 server's storage variables). */
  env?: Record<string, string>;
  /** Added to the API's environment only (e.g. METRICS_ENABLED=false). */
  apiEnv?: Record<string, string>;
  /** Flags for the API's node (e.g. `--cpu-prof` to profile it under a benchmark). */
  apiNodeArgs?: string[];
  /** A checkout whose API and workers run (with its own node_modules): the code before a change. @defaultValue this repository */
  root?: string;
  /** How the simulator makes images (default: drawn per request, as fal's outputs are per seed). */
  simImages?: FalSimOptions['images'];
}

export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const env = options.env ?? {};
  const redis = await startRedisServer();
  const sim = await createFalSim({ timeScale: 0, failureRate: 0, images: options.simImages ?? 'rendered' });
  const storageDir = await mkdtemp(join(tmpdir(), 'fluxq-bench-'));
  const port = await getFreePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const common = { REDIS_URL: redis.url, STORAGE_DIR: storageDir, LOG_LEVEL: 'warn', ...env };
  const api = await spawnService({
    name: 'api',
    entry: 'apps/api/src/main.ts',
    ...(options.root ? { root: options.root } : {}),
    env: {
      ...common,
      PORT: String(port),
      FILES_SIGNING_SECRET: 'bench-signing-secret-bench-signing-secret',
      ...options.apiEnv,
    },
    ready: { url: `${apiUrl}/healthz` },
    ...(options.apiNodeArgs ? { nodeArgs: options.apiNodeArgs } : {}),
  });
  const workers: Service[] = [];
  return {
    redis,
    sim,
    api,
    apiUrl,
    async startWorker(concurrency, env = {}) {
      const worker = await spawnService({
        name: 'worker',
        entry: 'apps/worker/src/main.ts',
        ...(options.root ? { root: options.root } : {}),
        env: {
          ...common,
          LOG_LEVEL: 'info',
          FAL_BASE_URL: sim.url,
          FAL_KEY: 'bench',
          FAL_POLL_INTERVAL_MS: '20',
          WORKER_CONCURRENCY: String(concurrency),
          ...env,
        },
        ready: { ipcEvent: 'ready' },
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.allSettled([api.stop(), ...workers.map((w) => w.stop())]);
      await sim.close();
      await redis.stop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
