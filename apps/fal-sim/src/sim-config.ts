import type { ModelInfo } from '@fluxq/core';
import { z } from 'zod';
import type { SimConfig, SimConfigPatch } from './types.js';

const rate = z.number().min(0).max(1);

/** Validates `POST /__sim/config` bodies. */
export const simConfigPatchSchema = z
  .object({
    timeScale: z.number().min(0).optional(),
    failureRate: z.union([rate, z.record(z.string().min(1), rate)]).optional(),
    maxConcurrency: z.int().min(0).nullable().optional(),
  })
  .strict();

export function initialConfig(options: {
  timeScale?: number;
  failureRate?: number | Record<string, number>;
  maxConcurrency?: number;
}): SimConfig {
  const config: SimConfig = {
    timeScale: options.timeScale ?? 1,
    failureRates: {},
    maxConcurrency: options.maxConcurrency ?? null,
  };
  return applyConfigPatch(config, { failureRate: options.failureRate });
}

/** Applies a patch in place and returns the config; an invalid patch throws and changes nothing. */
export function applyConfigPatch(config: SimConfig, patch: SimConfigPatch): SimConfig {
  assertRateValues(patch.failureRate);
  const { timeScale, maxConcurrency } = patch;
  if (timeScale !== undefined && !(timeScale >= 0)) throw new RangeError('timeScale must be >= 0');
  if (maxConcurrency != null && !(Number.isInteger(maxConcurrency) && maxConcurrency >= 0)) {
    throw new RangeError('maxConcurrency must be a non-negative integer or null');
  }
  if (timeScale !== undefined) config.timeScale = timeScale;
  if (typeof patch.failureRate === 'number') config.failureRates = { '*': patch.failureRate };
  else if (patch.failureRate) Object.assign(config.failureRates, patch.failureRate);
  if (maxConcurrency !== undefined) config.maxConcurrency = maxConcurrency;
  return config;
}

/** Sets one override; `*` replaces every override so "all endpoints" means all. */
export function setFailureRate(config: SimConfig, target: string, value: number): void {
  assertRateValues(value);
  if (target === '*') config.failureRates = { '*': value };
  else config.failureRates[target] = value;
}

/** Endpoint override, then model override, then `*`, then the catalog's provider success rate. */
export function failureRateFor(config: SimConfig, endpointId: string, model: ModelInfo): number {
  const overrides = config.failureRates;
  return overrides[endpointId] ?? overrides[model.id] ?? overrides['*'] ?? 1 - model.providerSuccessRate;
}

function assertRateValues(value: number | Record<string, number> | undefined): void {
  const values = typeof value === 'number' ? [value] : Object.values(value ?? {});
  for (const v of values) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`failure rate must be within 0..1, got ${v}`);
  }
}
