import type { ApiDeps } from './deps.js';

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
