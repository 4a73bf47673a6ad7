/**
 * What `bench:tail` compares. NAIVE calls fal directly; every other mode is FLUXQ with the
 * worker settings given here (on a fresh stack, so latency samples and budgets start clean).
 */
export const FLUXQ_MODES: Record<string, { label: string; workerEnv: Record<string, string> }> = {
  fluxq: {
    label:
      'defaults: queued hedge past the queue-time p94, slow hedge past p95 from the job start, budget 12 %',
    workerEnv: {},
  },
  'fluxq-p90': {
    label: 'slow hedge past p90 only, no queued hedge, budget 15 % (the policy before issue 17)',
    workerEnv: { HEDGE_PERCENTILE: '0.9', HEDGE_QUEUE_PERCENTILE: '1', HEDGE_BUDGET_RATIO: '0.15' },
  },
};

export const ALL_MODES = ['naive', ...Object.keys(FLUXQ_MODES)];
/** What a plain `npm run bench:tail` runs (BENCH_TAIL_MODES picks others). */
export const DEFAULT_MODES = ['naive', 'fluxq'];
