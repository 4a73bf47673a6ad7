import {
  type HedgeDecision,
  JOB_ERROR_CODES,
  type JobErrorCode,
  MODEL_IDS,
  type RequestOutcome,
} from '@fluxq/core';

/**
 * Every label value a worker metric takes comes from one of these closed sets, so a
 * series count is bounded whatever the traffic: a value outside its set is reported as
 * `other` (a bug to fix, not a new series per job). Tenants are the one open set, and
 * only with METRICS_TENANT_LABELS=true (tenants are configured, not user input).
 */
export const LABEL_SETS = {
  model: MODEL_IDS,
  operation: ['generate', 'edit'] as const,
  jobOutcome: ['succeeded', 'failed', 'canceled'] as const,
  errorCode: [...(Object.keys(JOB_ERROR_CODES) as JobErrorCode[]), 'none'] as const,
  requestOutcome: [
    'succeeded',
    'failed',
    'canceled',
    'lost',
    'left',
  ] as const satisfies readonly RequestOutcome[],
  submitKind: ['first', 'retry', 'hedge'] as const,
  hedgeDecision: [
    'sent',
    'budget_spent',
    'breaker_not_closed',
    'withdrawn',
    'no_slot',
  ] as const satisfies readonly HedgeDecision[],
  retryReason: ['backoff', 'lone failure', 'breaker open', 'retry budget spent'] as const,
  cancelOutcome: ['ok', 'error'] as const,
  breakerState: ['closed', 'half-open', 'open'] as const,
  webhookOutcome: ['delivered', 'retrying', 'failed', 'gone', 'blocked', 'disabled'] as const,
} as const;

/** `value` when it is in `allowed`, else `other`. */
export function closedLabel(value: string | undefined, allowed: readonly string[]): string {
  return value !== undefined && allowed.includes(value) ? value : 'other';
}
