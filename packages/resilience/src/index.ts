export { type BackoffOptions, type BackoffPolicy, backoffDelayMs } from './backoff.js';
export { type Budget, type BudgetOptions, type BudgetUsage, createBudget } from './budget.js';
export {
  type BreakerAdmission,
  type BreakerAllowed,
  type BreakerRefused,
  type BreakerStatus,
  type BreakerTransition,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
} from './circuit-breaker.js';
export { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
export {
  ATTEMPT_TIMEOUT,
  AttemptTimeoutError,
  type BreakerEffect,
  classifyProviderFailure,
  FAILURE_TAXONOMY,
  type FailureAction,
  type FailureKind,
  type FailureRule,
  failureKindOf,
  retryAfterMsOf,
} from './failure-taxonomy.js';
export {
  distinctRequests,
  type JobStatsFacts,
  jobStatsFacts,
  type RequestFacts,
} from './job-stats-facts.js';
export {
  type BucketCounts,
  bucketOf,
  bucketUpperMs,
  HISTOGRAM_BUCKETS,
  HISTOGRAM_GROWTH,
  HISTOGRAM_MIN_MS,
  lognormalPriorCounts,
  mergeCounts,
  quantile,
  totalCount,
} from './latency-histogram.js';
export { latencySeries, modelLatencyPrior } from './latency-series.js';
export {
  createLatencyTracker,
  type LatencyQuantiles,
  type LatencySample,
  type LatencySnapshot,
  type LatencyTracker,
  type LatencyTrackerOptions,
} from './latency-tracker.js';
export {
  createProviderStats,
  DEFAULT_STATS_WINDOW,
  isStatsWindow,
  type LatencyFigure,
  type ProviderStats,
  type ProviderStatsOptions,
  type RateFigure,
  STATS_WINDOWS,
  type StatsQuery,
  type StatsRow,
  type StatsTable,
  type StatsWindow,
} from './provider-stats.js';
export { createTokenBudget, type TokenBudget, type TokenBudgetOptions } from './token-budget.js';
