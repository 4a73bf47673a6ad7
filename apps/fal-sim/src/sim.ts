import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { SimContext } from './context.js';
import { createFaultBook } from './faults.js';
import { createFileStore } from './file-store.js';
import { createImageMaker } from './image-maker.js';
import { createImageSource } from './image-source.js';
import { createLatencySampler } from './latency.js';
import { createModelRunner } from './model-runner.js';
import { createPrerenderedImageMaker } from './prerendered-images.js';
import { createRequestStore } from './request-store.js';
import { createScheduler } from './scheduler.js';
import { applyConfigPatch, initialConfig, setFailureRate } from './sim-config.js';
import { createStatsRecorder } from './stats.js';
import type { FalSim, FalSimOptions } from './types.js';
import { createWebhookSender } from './webhooks.js';

const HOUR_MS = 3_600_000;
/** How often expired results and files are dropped. */
const SWEEP_INTERVAL_MS = 60_000;

/** Starts a fal simulator listening on `host:port` (port 0 = any free port). */
export async function createFalSim(options: FalSimOptions = {}): Promise<FalSim> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const config = initialConfig(options);
  const stats = createStatsRecorder();
  const faults = createFaultBook();
  const files = createFileStore({
    now,
    ttlMs: options.fileTtlMs ?? HOUR_MS,
    maxBytes: options.maxStoredBytes ?? 1024 ** 3,
  });
  const store = createRequestStore({ now, resultTtlMs: options.resultTtlMs ?? HOUR_MS });
  const webhooks = createWebhookSender({ fetch: fetchImpl, now, stats, timeScale: () => config.timeScale });
  const run = createModelRunner({
    images:
      options.images === 'prerendered' ? createPrerenderedImageMaker(createImageMaker()) : createImageMaker(),
    loadImages: createImageSource({ readLocal: (token) => files.get(token)?.bytes, fetch: fetchImpl }),
    files,
  });
  const scheduler = createScheduler({
    store,
    stats,
    now,
    maxConcurrency: () => config.maxConcurrency,
    run,
    onCompleted: (request) => webhooks.deliver(request),
  });
  let ticket = 0;
  const ctx: SimContext = {
    config,
    publicUrl: options.publicUrl,
    now,
    random,
    latency: createLatencySampler(random),
    stats,
    faults,
    files,
    store,
    scheduler,
    webhooks,
    nextTicket: () => ++ticket,
    reset() {
      scheduler.clear();
      store.clear();
      files.clear();
      faults.clear();
      stats.reset();
    },
  };

  const server = createServer(createApp(ctx));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const sweeper = setInterval(() => {
    store.sweep();
    files.sweep();
  }, SWEEP_INTERVAL_MS).unref();

  const { port, address } = server.address() as AddressInfo;
  const url = `http://${displayHost(address)}:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    stats: () => stats.snapshot(scheduler.counts()),
    setFaults: (rules) => faults.set(rules),
    config: () => structuredClone(config),
    configure(patch) {
      applyConfigPatch(config, patch);
      scheduler.pump();
      return structuredClone(config);
    },
    setFailureRate: (target, rate) => setFailureRate(config, target, rate),
    reset: () => ctx.reset(),
    jwks: () => webhooks.jwks(),
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        scheduler.clear();
        webhooks.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Hung fault responses and open status streams would otherwise hold close() forever.
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

/** A URL host for the bound address: wildcard binds are reached through loopback. */
function displayHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}
