import { noopWorkerMetrics, type WorkerMetrics } from './worker-metrics.js';

/** The deps' metrics, or ones that record nothing. */
export const metricsOf = (deps: { metrics?: WorkerMetrics }): WorkerMetrics =>
  deps.metrics ?? noopWorkerMetrics;
