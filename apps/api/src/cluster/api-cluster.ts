import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@fluxq/runtime';
import { serveClusterMetrics } from './cluster-metrics.js';

/** A process that died after it was serving is replaced after this long (no tight crash loop). */
const RESTART_DELAY_MS = 1_000;

/**
 * The API as several processes on one port (node's cluster: the primary holds the socket and
 * hands connections to the processes in turn). The primary serves nothing itself: it starts
 * `processes` API processes, replaces one that dies while serving, and on SIGTERM/SIGINT passes
 * the signal on (each drains as a single API would) and exits once all have. A process that
 * exits before it ever listened is a start-up failure (bad config, Redis unreachable): the
 * primary stops the others and exits with its code, as a single API process would.
 * `env` is added to every process's environment (e.g. the one file-URL secret they must share).
 */
export function runApiCluster(processes: number, logger: Logger, env: Record<string, string> = {}): void {
  serveClusterMetrics();
  let stopping = false;
  const listening = new WeakSet<Worker>();
  const fork = () => {
    const worker = cluster.fork(env);
    worker.once('listening', () => listening.add(worker));
  };
  const running = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const stop = (signal: NodeJS.Signals, exitCode: number) => {
    if (!stopping) logger.info({ signal, processes: running().length }, 'api cluster stopping');
    stopping = true;
    const left = running();
    if (left.length === 0) process.exit(exitCode);
    for (const worker of left) worker.process.kill(signal);
    cluster.on('exit', () => {
      if (running().length === 0) process.exit(exitCode);
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!listening.has(worker)) {
      logger.error({ pid: worker.process.pid, code, signal }, 'an api process failed to start');
      stop('SIGTERM', code || 1);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'an api process exited; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS);
  });
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
  for (let i = 0; i < processes; i++) fork();
  logger.info({ processes }, 'api cluster started');
}
