import type { LatencyPrior } from '@fluxq/core';
import type { RandomSource } from '@fluxq/runtime';
import { standardNormal } from './standard-normal.js';

/** z-score of the 95th percentile of a standard normal. */
const Z95 = 1.645;

/**
 * Samples are capped at this multiple of p95: a lognormal fitted to a wide prior has a
 * long tail, and one 10-minute outlier would stall a test suite or benchmark for nothing.
 */
const TAIL_CAP = 4;

export interface LognormalParams {
  mu: number;
  sigma: number;
}

/** Fits a lognormal to a p50/p95 pair: the median is e^mu, p95 is e^(mu + 1.645 sigma). */
export function fitLognormal(prior: LatencyPrior): LognormalParams {
  const mu = Math.log(prior.p50Ms);
  const sigma = Math.max(0, (Math.log(prior.p95Ms) - mu) / Z95);
  return { mu, sigma };
}

export interface Phases {
  /** Time spent IN_QUEUE before a runner could take the request, ms. */
  queueMs: number;
  /** Time spent IN_PROGRESS (inference, or until the failure), ms. */
  runMs: number;
}

export interface LatencySampler {
  /** One end-to-end latency for `prior`, already multiplied by `timeScale`, ms. */
  sampleMs(prior: LatencyPrior, timeScale: number): number;
  /** Splits an end-to-end latency into a short queue part and the rest. */
  split(totalMs: number): Phases;
}

export function createLatencySampler(random: RandomSource): LatencySampler {
  return {
    sampleMs(prior, timeScale) {
      if (timeScale <= 0) return 0;
      const { mu, sigma } = fitLognormal(prior);
      const raw = Math.exp(mu + sigma * standardNormal(random));
      return Math.min(raw, prior.p95Ms * TAIL_CAP) * timeScale;
    },
    split(totalMs) {
      // The priors measure submit-to-result; the queue share models dispatch and cold starts.
      const queueShare = 0.05 + random() * 0.15;
      const queueMs = totalMs * queueShare;
      return { queueMs, runMs: totalMs - queueMs };
    },
  };
}
