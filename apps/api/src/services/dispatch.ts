import type { ApiDeps } from '../deps.js';

/**
 * Moves newly accepted work into the queue now (when the window has room) rather than at
 * the workers' next dispatch tick, so an idle system starts a job as soon as it is accepted.
 * A failure only delays the job until a worker's dispatcher runs: it is logged, not thrown.
 */
export async function dispatchNow(deps: Pick<ApiDeps, 'fair' | 'logger'>): Promise<void> {
  try {
    await deps.fair.dispatch();
  } catch (err) {
    deps.logger.warn({ err }, 'dispatch after accept failed; the workers will dispatch it');
  }
}

/**
 * Before a 2xx for accepted work: with Sentinel or Cluster, one replica holds it too, so a
 * master lost right after cannot take the job with it (`waitForReplica`). No replica in time
 * (one is down): the job stays on the master and is accepted anyway, with a warning.
 */
export async function confirmReplicated(deps: Pick<ApiDeps, 'waitForReplica' | 'logger'>): Promise<void> {
  try {
    const replicas = await deps.waitForReplica();
    if (replicas === 0) deps.logger.warn('no Redis replica confirmed the accepted work within 1 s');
  } catch (err) {
    deps.logger.warn({ err }, 'could not confirm replication of accepted work');
  }
}
