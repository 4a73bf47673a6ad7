/**
 * What `bench:tail` compares. NAIVE calls fal directly; every other mode is FLUXQ with the
 * worker settings given here (on a fresh stack, so latency samples and budgets start clean).
 */
export const FLUXQ_MODES: Record<string, { label: string; workerEnv: Record<string, string> }> = {
  fluxq: { label: 'defaults: hedge past p90, hedge budget 15 %', workerEnv: {} },
  'fluxq-p95': {
    label: 'hedge past p95, hedge budget 5 %',
    workerEnv: { HEDGE_PERCENTILE: '0.95', HEDGE_BUDGET_RATIO: '0.05' },
  },
};

export const ALL_MODES = ['naive', ...Object.keys(FLUXQ_MODES)];
