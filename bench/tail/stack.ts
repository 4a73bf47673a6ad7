import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFalSim, type FalSim } from '@fluxq/fal-sim';
import { getFreePort, type RedisServer, type Service, spawnService, startRedisServer } from '@fluxq/testing';

/** A private redis-server, the sim at `timeScale` with the catalog's success rates, the API and workers. */
export interface TailStack {
  redis: RedisServer;
  sim: FalSim;
  apiUrl: string;
  close(): Promise<void>;
}

export interface TailStackOptions {
  timeScale: number;
  /** Worker processes; 0 starts neither the API nor workers (the sim alone, for NAIVE). */
  workers: number;
  workerConcurrency: number;
  /** Extra worker environment (the FLUXQ variant's policy settings). */
  workerEnv?: Record<string, string>;
}

/** Every real-time setting shrunk by the sim's time scale, so the policies see the same shapes. */
function scaledEnv(timeScale: number) {
  const ms = (realMs: number, min = 10) => String(Math.max(min, Math.round(realMs * timeScale)));
  return {
    worker: {
      FAL_POLL_INTERVAL_MS: ms(1_000),
      FAL_WEBHOOK_POLL_INTERVAL_MS: ms(10_000),
      FAL_LATENCY_PRIOR_SCALE: String(timeScale),
      // Samples are summed in memory and written this often: a real second, scaled like the rest.
      FAL_LATENCY_FLUSH_MS: ms(1_000),
      FAL_ATTEMPT_TIMEOUT_MIN_MS: ms(30_000),
      FAL_ATTEMPT_TIMEOUT_MAX_MS: ms(300_000),
      FAL_START_TIMEOUT_S: String(Math.max(2, Math.round(60 * timeScale))),
      JOB_BACKOFF_MS: ms(1_000, 0),
      JOB_BACKOFF_MAX_MS: ms(30_000, 0),
      JOB_DEADLINE_MS: ms(900_000, 100),
      BREAKER_WINDOW_MS: ms(30_000, 100),
      BREAKER_OPEN_MS: ms(5_000),
      BREAKER_MAX_OPEN_MS: ms(60_000),
      BREAKER_AUTH_OPEN_MS: ms(60_000),
      // The budgets' windows too: a real minute of traffic is what they are sized for.
      RETRY_BUDGET_WINDOW_MS: ms(60_000, 60),
      HEDGE_BUDGET_WINDOW_MS: ms(60_000),
    },
    api: { JOB_BACKOFF_MS: ms(1_000, 0) },
  };
}

export async function startTailStack(options: TailStackOptions): Promise<TailStack> {
  const redis = await startRedisServer();
  // No failureRate: each endpoint fails at 1 − the catalog's provider success rate.
  const sim = await createFalSim({ timeScale: options.timeScale });
  const storageDir = await mkdtemp(join(tmpdir(), 'fluxq-bench-tail-'));
  const services: Service[] = [];
  const close = async () => {
    await Promise.allSettled(services.map((s) => s.stop()));
    await sim.close();
    await redis.stop();
    await rm(storageDir, { recursive: true, force: true });
  };
  const port = await getFreePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  if (options.workers === 0) return { redis, sim, apiUrl, close };
  try {
    const env = scaledEnv(options.timeScale);
    const common = { REDIS_URL: redis.url, STORAGE_DIR: storageDir, LOG_LEVEL: 'warn' };
    services.push(
      await spawnService({
        name: 'api',
        entry: 'apps/api/src/main.ts',
        env: {
          ...common,
          ...env.api,
          PORT: String(port),
          FILES_SIGNING_SECRET: 'bench-signing-secret-bench-signing-secret',
          FAL_JWKS_URL: `${sim.url}/.well-known/jwks.json`,
        },
        ready: { url: `${apiUrl}/healthz` },
        timeoutMs: 60_000,
      }),
    );
    for (let i = 1; i <= options.workers; i++) {
      services.push(
        await spawnService({
          name: `worker-${i}`,
          entry: 'apps/worker/src/main.ts',
          env: {
            ...common,
            ...env.worker,
            FAL_BASE_URL: sim.url,
            FAL_KEY: 'bench',
            FAL_WEBHOOK_URL: `${apiUrl}/fal/webhook`,
            FAL_MAX_CONCURRENCY: '500',
            WORKER_CONCURRENCY: String(options.workerConcurrency),
            WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
            ...options.workerEnv,
          },
          // LOG_LEVEL=warn silences the "worker ready" line; the IPC signal is independent of it.
          ready: { ipcEvent: 'ready' },
          timeoutMs: 60_000,
        }),
      );
    }
    return { redis, sim, apiUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Waits until nothing is queued or running at the sim (or `timeoutMs` passes), so its stats are final. */
export async function drainSim(sim: FalSim, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const { queued, inProgress } = sim.stats();
    if (queued + inProgress === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
