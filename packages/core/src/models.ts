/**
 * The model catalog (DESIGN §3): our model ids, the fal endpoints behind them,
 * their price and the latency/success priors used until real samples arrive.
 */

export type Operation = 'generate' | 'edit';

export interface LatencyPrior {
  /** Median time from submit to completed result at fal, in ms. */
  p50Ms: number;
  /** 95th percentile of the same, in ms. */
  p95Ms: number;
}

export interface ModelInfo {
  /** Model id as the API accepts it. */
  id: ModelId;
  /** Human-readable name for listings. */
  displayName: string;
  /** fal endpoint id per operation. */
  falEndpoints: Record<Operation, string>;
  /** Price per megapixel (1 MP = 1024×1024), USD. */
  usdPerMegapixel: number;
  /** Latency prior, seed figures. */
  latencyPrior: LatencyPrior;
  /** Share of provider requests that succeed (0..1), seed figures. */
  providerSuccessRate: number;
  /** Largest output side fal accepts, px. */
  maxSide: number;
  /** Smallest output side fal accepts, px. */
  minSide: number;
}

export const MODEL_IDS = ['flux.2-dev-turbo', 'flux.2-dev-flash', 'flux.2-dev'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

/** The model used when a request names none. */
export const DEFAULT_MODEL_ID: ModelId = 'flux.2-dev-turbo';

const FLASH_PRIOR: LatencyPrior = { p50Ms: 8_093, p95Ms: 36_022 };

export const MODELS: Readonly<Record<ModelId, ModelInfo>> = {
  'flux.2-dev-turbo': {
    id: 'flux.2-dev-turbo',
    displayName: 'FLUX.2 [dev] Turbo',
    falEndpoints: { generate: 'fal-ai/flux-2/turbo', edit: 'fal-ai/flux-2/turbo/edit' },
    usdPerMegapixel: 0.008,
    latencyPrior: { p50Ms: 2_476, p95Ms: 13_297 },
    providerSuccessRate: 0.92,
    maxSide: 2048,
    minSide: 512,
  },
  'flux.2-dev-flash': {
    id: 'flux.2-dev-flash',
    displayName: 'FLUX.2 [dev] Flash',
    falEndpoints: { generate: 'fal-ai/flux-2/flash', edit: 'fal-ai/flux-2/flash/edit' },
    usdPerMegapixel: 0.005,
    latencyPrior: FLASH_PRIOR,
    providerSuccessRate: 0.982,
    maxSide: 2048,
    minSide: 512,
  },
  'flux.2-dev': {
    id: 'flux.2-dev',
    displayName: 'FLUX.2 [dev]',
    falEndpoints: { generate: 'fal-ai/flux-2', edit: 'fal-ai/flux-2/edit' },
    usdPerMegapixel: 0.012,
    // Unknown: DESIGN §3 says to use Flash's prior.
    latencyPrior: FLASH_PRIOR,
    providerSuccessRate: 0.982,
    maxSide: 2048,
    minSide: 512,
  },
};

export function isModelId(value: unknown): value is ModelId {
  return typeof value === 'string' && (MODEL_IDS as readonly string[]).includes(value);
}

/** The model whose fal endpoint (either operation) is `endpointId`, if any. */
export function modelForFalEndpoint(
  endpointId: string,
): { model: ModelInfo; operation: Operation } | undefined {
  for (const model of Object.values(MODELS)) {
    for (const operation of ['generate', 'edit'] as const) {
      if (model.falEndpoints[operation] === endpointId) return { model, operation };
    }
  }
  return undefined;
}
