import type { ModelInfo, Operation } from '@fluxq/core';
import type { RandomSource } from '@fluxq/runtime';
import { parseModelInput } from './input-schema.js';
import type { LatencySampler } from './latency.js';
import { faultOutcome, sampleInfraFailure, validationOutcome } from './outcomes.js';
import type { Ending, RequestPlan } from './request-store.js';
import type { FaultRule } from './types.js';

export interface PlanInput {
  model: ModelInfo;
  operation: Operation;
  input: unknown;
  timeScale: number;
  failureRate: number;
  /** An `outcome` fault rule taken for this request. */
  fault: FaultRule | undefined;
  startTimeoutMs: number | undefined;
}

/** Validation fails fast: this share of the sampled run time. */
const VALIDATION_SHARE = 0.05;

/**
 * Decides at submit how a request will go: its phase lengths and how it ends. Doing every
 * random draw here, in submit order, keeps a seeded sim repeatable whatever the timing.
 */
export function planRequest(latency: LatencySampler, random: RandomSource, input: PlanInput): RequestPlan {
  const { model, fault } = input;
  const parsed = parseModelInput(input.input, input.operation);
  const seed = Math.floor(random() * 2 ** 31);
  const phases =
    fault?.delayMs !== undefined
      ? { queueMs: 0, runMs: fault.delayMs }
      : latency.split(latency.sampleMs(model.latencyPrior, input.timeScale));

  let ending: Ending = { kind: 'run' };
  if (fault?.hang) ending = { kind: 'hang' };
  else if (fault?.status !== undefined) {
    ending = {
      kind: 'fail',
      outcome: faultOutcome({ ...fault, status: fault.status }),
      afterMs: phases.runMs,
    };
  } else if (!parsed.ok) {
    ending = {
      kind: 'fail',
      outcome: validationOutcome(parsed.detail),
      afterMs: phases.runMs * VALIDATION_SHARE,
    };
  } else if (!fault && random() < input.failureRate) {
    // Time to failure follows the same prior as a success.
    const { runMs } = latency.split(latency.sampleMs(model.latencyPrior, input.timeScale));
    ending = { kind: 'fail', outcome: sampleInfraFailure(random), afterMs: runMs };
  }

  return {
    ...phases,
    ending,
    params: parsed.ok ? parsed.params : undefined,
    seed,
    nsfw: fault?.nsfw === true,
    startTimeoutMs: input.startTimeoutMs,
  };
}
