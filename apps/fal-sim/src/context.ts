import type { RandomSource } from '@fluxq/runtime';
import type { FaultBook } from './faults.js';
import type { FileStore } from './file-store.js';
import type { LatencySampler } from './latency.js';
import type { RequestStore } from './request-store.js';
import type { Scheduler } from './scheduler.js';
import type { StatsRecorder } from './stats.js';
import type { SimConfig } from './types.js';
import type { WebhookSender } from './webhooks.js';

/** Everything the HTTP routes share; built once per sim by `createFalSim`. */
export interface SimContext {
  /** Live config; routes read it on every request. */
  readonly config: SimConfig;
  readonly publicUrl: string | undefined;
  readonly now: () => number;
  readonly random: RandomSource;
  readonly latency: LatencySampler;
  readonly stats: StatsRecorder;
  readonly faults: FaultBook;
  readonly files: FileStore;
  readonly store: RequestStore;
  readonly scheduler: Scheduler;
  readonly webhooks: WebhookSender;
  /** Next submit-order ticket. */
  nextTicket(): number;
  /** Zeroes stats, forgets requests, files and faults. */
  reset(): void;
}
