// `npm start`: Redis (found or launched), the fal simulator (without FAL_KEY), the API and
// one worker, with their logs prefixed, until Ctrl-C. See scripts/README.md.
import { join } from 'node:path';
import { describeRedisTarget, redisTargetFromEnv } from '@fluxq/queue';
import {
  type RedisServer,
  repoRoot,
  type Service,
  type ServiceRuntime,
  type SpawnServiceOptions,
  spawnService,
  startRedisServer,
} from '@fluxq/supervisor';
import { renderBanner } from './lib/banner.js';
import { findRedis, redactRedisUrl } from './lib/find-redis.js';
import { formatLogLine, prefixLines } from './lib/log-format.js';
import { chooseMetricsPort } from './lib/metrics-port.js';
import { loadSigningSecret } from './lib/signing-secret.js';

type ServiceName = 'api' | 'worker' | 'fal-sim';
/**
 * `npm start` runs this file through tsx, and the services from their TypeScript sources;
 * `npm run start:prod` runs its compiled copy (scripts/dist/start.js) with plain node, and
 * the services' compiled dist/ as well: what the launcher is made of decides what it runs, so
 * a production start can never pick up tsx by accident.
 */
const RUNTIME: ServiceRuntime = import.meta.url.endsWith('.ts') ? 'source' : 'built';
/** Stop order: take no more requests, finish in-flight jobs, then what they depend on. */
const STOP_ORDER: readonly ServiceName[] = ['api', 'worker', 'fal-sim'];
/**
 * First start compiles TypeScript on the fly; be patient. FLUXQ_START_TIMEOUT_MS overrides it
 * (tests use a short one to show readiness does not hang on it). Unit: milliseconds.
 */
const DEFAULT_START_TIMEOUT_MS = 60_000;
/**
 * How long a service may take to stop on Ctrl-C before SIGKILL: longer than the worker's own
 * drain (WORKER_SHUTDOWN_TIMEOUT_MS, 30 s), so it hands unfinished jobs back and exits cleanly.
 * Unit: milliseconds.
 */
const STOP_TIMEOUT_MS = 45_000;
/**
 * A second signal this soon after the first is the same Ctrl-C relayed by npm or tsx, not
 * a request to force. Unit: milliseconds.
 */
const SIGNAL_ECHO_MS = 1_000;

const say = (message: string) => process.stderr.write(`${message}\n`);
const printer = (name: string) => (line: string) =>
  process.stdout.write(`${prefixLines(name, formatLogLine(line))}\n`);

async function main(): Promise<void> {
  const env = process.env;
  // FLUXQ_START_REDIS_PORT exists only so tests can probe a port they know is free.
  const redisPort = Number(env.FLUXQ_START_REDIS_PORT || 6379);
  if (!Number.isInteger(redisPort) || redisPort < 1 || redisPort > 65_535) {
    say(
      `fluxq: FLUXQ_START_REDIS_PORT must be a TCP port, got ${JSON.stringify(env.FLUXQ_START_REDIS_PORT)}`,
    );
    process.exit(1);
  }
  const startTimeoutMs = Number(env.FLUXQ_START_TIMEOUT_MS || DEFAULT_START_TIMEOUT_MS);
  if (!Number.isInteger(startTimeoutMs) || startTimeoutMs < 1) {
    say(
      `fluxq: FLUXQ_START_TIMEOUT_MS must be a positive number of milliseconds, got ${JSON.stringify(env.FLUXQ_START_TIMEOUT_MS)}`,
    );
    process.exit(1);
  }
  const choice = await findRedis({ env, port: redisPort });
  if (choice.kind === 'unavailable') {
    say(choice.message);
    process.exit(1);
  }

  const services = new Map<ServiceName, Service>();
  const aborter = new AbortController();
  let redisStarting: Promise<RedisServer> | undefined;
  let closing: Promise<void> | undefined;

  const shutdown = (code: number): Promise<void> => {
    closing ??= (async () => {
      aborter.abort(new Error('fluxq is shutting down'));
      for (const name of STOP_ORDER) {
        try {
          await services.get(name)?.stop();
        } catch (error) {
          say(`fluxq: stopping ${name} failed: ${(error as Error).message}`);
        }
      }
      try {
        await (await redisStarting?.catch(() => undefined))?.stop();
      } catch (error) {
        say(`fluxq: stopping redis-server failed: ${(error as Error).message}`);
      }
      process.exit(code);
    })();
    return closing;
  };

  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      say(`fluxq: ${signal} — stopping (press Ctrl-C again to force)`);
      void shutdown(0);
    } else if (Date.now() - firstSignalAt > SIGNAL_ECHO_MS) {
      say(`fluxq: ${signal} again — killing everything now`);
      process.exit(1); // the harness SIGKILLs its children when this process exits
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const start = async (name: ServiceName, options: Omit<SpawnServiceOptions, 'name'>): Promise<void> => {
    const service = await spawnService({
      name,
      timeoutMs: startTimeoutMs,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      detached: true, // Ctrl-C reaches only us, and we stop the children in order
      onLine: printer(name),
      signal: aborter.signal,
      runtime: RUNTIME,
      ...options,
    });
    services.set(name, service);
    void service.exited.then((code) => {
      if (closing) return;
      const how = service.exitSignal() ? `killed by ${service.exitSignal()}` : `exit code ${code}`;
      say(`fluxq: ${name} exited unexpectedly (${how}) — stopping the rest`);
      void shutdown(1);
    });
  };

  try {
    let redisUrl: string;
    if (choice.kind === 'url') {
      redisUrl = choice.url;
      const target = redisTargetFromEnv(env, redisUrl);
      say(
        target.kind === 'standalone'
          ? `fluxq: Redis at ${redactRedisUrl(redisUrl)} (${choice.source === 'env' ? 'REDIS_URL' : 'already running'})`
          : `fluxq: ${describeRedisTarget(target)}`,
      );
    } else {
      const dir = join(repoRoot, '.data', 'redis');
      say(`fluxq: starting a private redis-server on 127.0.0.1:${choice.port} (AOF on, data in .data/redis)`);
      redisStarting = startRedisServer({
        bin: choice.bin,
        port: choice.port,
        dir,
        appendonly: true,
        detached: true,
        onUnexpectedExit: (exit) => {
          if (closing) return;
          const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
          say(`fluxq: redis-server exited unexpectedly (${how}) — stopping the rest`);
          void redisStarting?.then((server) =>
            say(prefixLines('redis', server.logs().slice(-10).join('\n'))),
          );
          void shutdown(1);
        },
      });
      redisUrl = (await redisStarting).url;
    }

    const secret = await loadSigningSecret(env, join(repoRoot, '.data', 'files-signing-secret'));
    if (secret.source === 'created') say('fluxq: created .data/files-signing-secret (signs file URLs)');
    const port = env.PORT?.trim() || '8080';
    const host = env.HOST?.trim() || '127.0.0.1';
    const localHost =
      host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const publicBaseUrl = env.PUBLIC_BASE_URL?.trim().replace(/\/+$/, '') || `http://${localHost}:${port}`;
    // Every service gets the same public URL and signing secret: the worker writes file URLs
    // into webhook bodies, and they must point at this API and verify there.
    const common = {
      REDIS_URL: redisUrl,
      FILES_SIGNING_SECRET: secret.value,
      PUBLIC_BASE_URL: publicBaseUrl,
      // On a developer's machine webhook receivers and test images are local: allow loopback only.
      URL_ALLOW_LIST: env.URL_ALLOW_LIST?.trim() || 'localhost,127.0.0.1,::1/128',
    };

    let falEnv: Record<string, string | undefined> = {};
    let falSimUrl: string | undefined;
    if (!env.FAL_KEY?.trim()) {
      const simPort = env.FAL_SIM_PORT?.trim() || '8090';
      falSimUrl = `http://127.0.0.1:${simPort}`;
      falEnv = { FAL_KEY: undefined, FAL_BASE_URL: falSimUrl, FAL_REST_URL: falSimUrl };
      await start('fal-sim', {
        entry: 'apps/fal-sim/src/main.ts',
        env: { FAL_SIM_PORT: simPort },
        ready: { url: `${falSimUrl}/health` },
      });
    }

    // With the simulator, fal's completion webhooks come back to this API, signed with the
    // simulator's key, and the worker's latency priors run at the simulator's speed.
    const simApiEnv = falSimUrl ? { FAL_JWKS_URL: `${falSimUrl}/.well-known/jwks.json` } : {};
    const simScale = Number(env.FAL_SIM_TIME_SCALE?.trim() || '1');
    const simWorkerEnv = falSimUrl
      ? {
          FAL_WEBHOOK_URL: env.FAL_WEBHOOK_URL?.trim() || `http://${localHost}:${port}/fal/webhook`,
          ...(simScale > 0 ? { FAL_LATENCY_PRIOR_SCALE: String(simScale) } : {}),
        }
      : {};
    const metricsPort = await chooseMetricsPort(env);
    await Promise.all([
      start('api', {
        entry: 'apps/api/src/main.ts',
        env: { ...common, ...falEnv, ...simApiEnv, PORT: port, HOST: host },
        ready: { url: `http://${localHost}:${port}/healthz` },
      }),
      start('worker', {
        entry: 'apps/worker/src/main.ts',
        // Its own health and metrics port (one per worker: a second worker needs another).
        env: { ...common, ...falEnv, ...simWorkerEnv, METRICS_PORT: metricsPort },
        ready: { ipcEvent: 'ready' },
      }),
    ]);

    process.stdout.write(
      renderBanner({
        apiUrl: publicBaseUrl,
        apiKeys: Boolean(env.API_KEYS?.trim() || env.API_KEYS_FILE?.trim()),
        redis:
          choice.kind === 'launch'
            ? `${redisUrl} (private redis-server, data in .data/redis)`
            : redactRedisUrl(redisUrl),
        falSimUrl,
        storageDir: env.STORAGE_DIR?.trim() || '.data/storage',
        ...(metricsPort !== '0' ? { workerMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics` } : {}),
      }),
    );
  } catch (error) {
    if (closing) return; // a signal or a crash is already stopping everything
    const text = (error as Error).message ?? String(error);
    // A service's logs were streamed already: its error's first line says enough.
    say(`fluxq: ${(error as Error).name === 'ServiceStartError' ? text.split('\n')[0] : text}`);
    await shutdown(1);
  }
}

await main();
