import {
  FluxqError,
  isModelId,
  MAX_INPUT_IMAGES,
  MAX_N,
  MODEL_IDS,
  MODELS,
  type ModelInfo,
} from '@fluxq/core';
import { Router } from 'express';

/**
 * `created` of every model: the catalog has no per-model dates, so this is a fixed
 * point (2025-11-25, FLUX.2 [dev]'s release), stable across restarts as OpenAI's is.
 */
const MODELS_CREATED_AT = 1_764_028_800;

/** A catalog entry in OpenAI's model shape, plus what a client needs to build a request. */
export function viewModel(model: ModelInfo) {
  return {
    id: model.id,
    object: 'model' as const,
    created: MODELS_CREATED_AT,
    owned_by: 'fluxq',
    name: model.displayName,
    operations: Object.keys(model.falEndpoints),
    usd_per_megapixel: model.usdPerMegapixel,
    min_side: model.minSide,
    max_side: model.maxSide,
    max_input_images: MAX_INPUT_IMAGES,
    max_n: MAX_N,
  };
}

/** `GET /v1/models` (OpenAI list shape) and `GET /v1/models/{id}` (DESIGN §3). */
export function modelsRouter(): Router {
  const router = Router();
  router.get('/v1/models', (_req, res) => {
    res.json({ object: 'list', data: MODEL_IDS.map((id) => viewModel(MODELS[id])) });
  });
  router.get('/v1/models/:id', (req, res) => {
    const { id } = req.params;
    if (!isModelId(id)) {
      throw new FluxqError('model_not_found', `no model ${id.slice(0, 100)}; see GET /v1/models`, {
        param: 'id',
      });
    }
    res.json(viewModel(MODELS[id]));
  });
  return router;
}
