import type { Priority } from '@fluxq/core';
import type { FalQueueClient } from '@fluxq/fal';
import type { InputLimits } from '@fluxq/images';
import type { FalCompletionListener, JobLifecycle, JobStatusFeed } from '@fluxq/queue';
import type { Budget, CircuitBreaker, LatencyTracker, ProviderStats, TokenBudget } from '@fluxq/resilience';
import type { Logger } from '@fluxq/runtime';
import type { BlobStorage } from '@fluxq/storage';
import type { JobStore } from '@fluxq/store';
import type { JobCapacity } from './images/fal-capacity.js';
import type { ImageFetchLimits } from './images/fetch-image-url.js';
import type { SlotKeeper } from './images/slot-keeper.js';
import type { WorkerMetrics } from './metrics/worker-metrics.js';

/** Tunables of the image processor, all in ms unless named otherwise. */
export interface ProcessorSettings {
  /** Interval between fal status polls (without webhooks). */
  pollIntervalMs: number;
  /** Interval between fal status polls when fal webhooks wake us (the fallback for lost ones). */
  webhookPollIntervalMs: number;
  /** `fal_webhook` URL sent with every submit; unset means polling only. */
  falWebhookUrl: string | undefined;
  /** Attempt timeout: this percentile of the tracked latency, clamped to [minMs, maxMs]. */
  attemptTimeout: { percentile: number; minMs: number; maxMs: number };
  /** `X-Fal-Request-Timeout`, seconds. */
  startTimeoutS: number;
  /**
   * Hedge past this percentile of time to result, or past `queuePercentile` of time queued
   * while the request is still in fal's queue (1 = never), for jobs of these priorities.
   */
  hedge: { percentile: number; queuePercentile: number; priorities: readonly Priority[] };
  /** Attempts a job may spend, and its overall deadline from submission. */
  maxAttempts: number;
  jobDeadlineMs: number;
  backoff: { baseMs: number; capMs: number };
  /** How long the breaker stays open after fal refused our credentials. */
  authBreakerOpenMs: number;
  imageFetch: ImageFetchLimits;
  inputLimits: InputLimits;
}

/** The policy layer's shared state (all in Redis, so every worker process sees the same). */
export interface ResilienceParts {
  latency: LatencyTracker;
  breaker: CircuitBreaker;
  retryBudget: Budget;
  hedgeBudget: TokenBudget;
  /** Account concurrency at fal (FAL_MAX_CONCURRENCY). */
  slots: SlotKeeper;
  /** Wake-ups from fal webhooks; null when FAL_WEBHOOK_URL is unset. */
  completions: FalCompletionListener | null;
}

/** Everything the processor talks to; tests build it from real parts. */
export interface ProcessorDeps {
  store: JobStore;
  storage: BlobStorage;
  fal: FalQueueClient;
  logger: Logger;
  settings: ProcessorSettings;
  resilience: ResilienceParts;
  /**
   * The job's status changes with all their side effects (queued index, batch count, webhook
   * event, this process's metrics and stats through `onEnded`): packages/queue README, "Job lifecycle".
   */
  lifecycle: JobLifecycle;
  /** fal capacity from the scheduler: the job's slot and its tenant's running-job lease. */
  capacity: JobCapacity;
  /** Job status changes, so a held job learns of its cancel at once; unset = the poll loop's check only. */
  statusFeed?: JobStatusFeed;
  /** The provider table's recorder (`GET /v1/stats`); unset = not recorded (STATS_ENABLED=false). */
  stats?: ProviderStats;
  /** Prometheus counters and histograms; unset = none (tests, METRICS_PORT unset). */
  metrics?: WorkerMetrics;
  /** Slows the whole queue (fal answered 429). Set once the BullMQ worker exists. */
  rateLimit: (ms: number) => Promise<void>;
  /** Clock in ms; injectable for tests. */
  now: () => number;
}
