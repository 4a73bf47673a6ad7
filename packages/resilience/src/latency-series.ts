import { isModelId, type LatencyPrior, MODELS, type ModelId, type Operation } from '@fluxq/core';

/**
 * Names of latency series and their priors. A series is one model and operation, because
 * edits and generations of one model take different times, and the catalog's priors
 * (DESIGN §3) are per model.
 */

/** The series of `model` doing `operation`, e.g. `flux.2-dev-turbo:edit`. */
export function latencySeries(model: ModelId, operation: Operation): string {
  return `${model}:${operation}`;
}

/** The catalog prior of the model a series (`<model>:<operation>`) names, if it names one. */
export function modelLatencyPrior(series: string): LatencyPrior | undefined {
  const model = series.split(':', 1)[0];
  return isModelId(model) ? MODELS[model].latencyPrior : undefined;
}
