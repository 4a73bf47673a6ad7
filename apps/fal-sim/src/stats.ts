import type { SimStats } from './types.js';

/** Counters the recorder owns; `queued` and `inProgress` are read from the scheduler instead. */
export type Counters = Omit<SimStats, 'queued' | 'inProgress' | 'submitsByEndpoint'>;

export interface StatsRecorder {
  readonly counters: Counters;
  countSubmit(endpointId: string): void;
  snapshot(live: { queued: number; inProgress: number }): SimStats;
  reset(): void;
}

function zero(): Counters {
  return {
    submits: 0,
    cancels: 0,
    statusCalls: 0,
    resultCalls: 0,
    uploads: 0,
    peakInProgress: 0,
    inProgressMs: 0,
    completed: 0,
    failed: 0,
    ran: 0,
    billed: 0,
    faultsFired: 0,
    webhookAttempts: 0,
  };
}

export function createStatsRecorder(): StatsRecorder {
  let byEndpoint: Record<string, number> = {};
  const counters = zero();
  return {
    counters,
    countSubmit(endpointId) {
      counters.submits += 1;
      byEndpoint[endpointId] = (byEndpoint[endpointId] ?? 0) + 1;
    },
    snapshot(live) {
      return { ...counters, submitsByEndpoint: { ...byEndpoint }, ...live };
    },
    reset() {
      Object.assign(counters, zero());
      byEndpoint = {};
    },
  };
}
