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
  /** Set once the cluster is stopping: the code the primary exits with when its last process has. */
  let exitCode: number | undefined;
  const listening = new WeakSet<Worker>();
  const fork = () => {
    const worker = cluster.fork(env);
    worker.once('listening', () => listening.add(worker));
  };
  // A worker that exited may stay in cluster.workers until its IPC channel closes too.
  const running = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
  const stop = (signal: NodeJS.Signals, code: number) => {
    if (exitCode !== undefined) return;
    exitCode = code;
    const left = running();
    logger.info({ signal, processes: left.length }, 'api cluster stopping');
    if (left.length === 0) process.exit(code);
    for (const worker of left) worker.process.kill(signal);
  };

  cluster.on('exit', (worker, code, signal) => {
    if (exitCode !== undefined) {
      if (running().length === 0) process.exit(exitCode);
      return;
    }
    if (!listening.has(worker)) {
      logger.error({ pid: worker.process.pid, code, signal }, 'an api process failed to start');
      stop('SIGTERM', code || 1);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'an api process exited; starting another');
    setTimeout(() => {
      if (exitCode === undefined) fork();
    }, RESTART_DELAY_MS);
  });
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
  for (let i = 0; i < processes; i++) fork();
  logger.info({ processes }, 'api cluster started');
}
