import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createLogger, type Logger } from '@fluxq/runtime';
import { createApp } from './app.js';
import { buildApiDeps } from './build-deps.js';
import { runApiCluster } from './cluster/api-cluster.js';
import { type ApiConfig, apiProcessCount, loadApiConfig, logSecrets } from './config.js';

/**
 * API process entry: serve until SIGTERM/SIGINT, then stop accepting and drain. With
 * API_PROCESSES > 1 this process becomes the cluster's primary and each process it starts
 * runs the rest of this function.
 */
async function main(): Promise<void> {
  const config = loadApiConfig(process.env);
  const logger = createLogger({ name: 'api', level: config.LOG_LEVEL, secrets: logSecrets(config) });
  const processes = apiProcessCount(config);
  if (processes > 1 && cluster.isPrimary) {
    runApiCluster(processes, logger, sharedClusterEnv(config, logger));
    return;
  }
  const deps = await buildApiDeps(config, logger);
  const server = createServer(createApp(deps));
  // Slow clients can't hold sockets forever.
  server.requestTimeout = 120_000;
  server.headersTimeout = 20_000;

  let closing: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    closing ??= (async () => {
      logger.info({ signal }, 'api stopping');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Synchronous image calls stop waiting and answer 202 with their job.
        deps.events.abortWaits();
      });
      await deps.close();
      logger.info('api stopped');
    })();
    return closing;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM').then(() => process.exit(0)));
  process.once('SIGINT', () => void shutdown('SIGINT').then(() => process.exit(0)));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info(
    { url: `http://${config.HOST}:${port}`, mode: deps.tenants.openMode ? 'local open mode' : 'api keys' },
    'api listening',
  );
}

/**
 * File URLs signed by one API process must verify at any other, so without FILES_SIGNING_SECRET
 * the primary makes one random secret for all of them (a replaced process keeps it).
 */
function sharedClusterEnv(config: ApiConfig, logger: Logger): Record<string, string> {
  if (config.FILES_SIGNING_SECRET) return {};
  if (config.STORAGE_DRIVER !== 's3') {
    logger.warn('FILES_SIGNING_SECRET is unset: file URLs will stop working when the API restarts');
  }
  return { FILES_SIGNING_SECRET: randomBytes(32).toString('hex') };
}

main().catch((err: unknown) => {
  console.error(`fluxq api failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
