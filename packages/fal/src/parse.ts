/**
 * Validation of fal's 2xx bodies. Anything missing that we depend on is a FalProtocolError:
 * a worker must not mistake a malformed answer for success.
 */

import { type FalOperation, FalProtocolError } from './errors.js';
import type { FalImageFile, FalImageOutput, FalStatusResult, FalSubmitResult } from './types.js';

type Json = Record<string, unknown>;

export function parseSubmit(
  body: unknown,
  fallbackUrl: (suffix: '' | '/status' | '/cancel', id: string) => string,
) {
  const b = record(body, 'submit');
  const requestId = b.request_id;
  if (typeof requestId !== 'string' || requestId === '') throw missing('submit', 'request_id');
  const result: FalSubmitResult = {
    requestId,
    // The docs say to use the returned URLs; legacy answers may omit them.
    statusUrl: str(b.status_url) ?? fallbackUrl('/status', requestId),
    responseUrl: str(b.response_url) ?? fallbackUrl('', requestId),
    cancelUrl: str(b.cancel_url) ?? fallbackUrl('/cancel', requestId),
    queuePosition: num(b.queue_position),
  };
  return result;
}

export function parseStatus(body: unknown, requestId: string): FalStatusResult {
  const b = record(body, 'status', requestId);
  if (typeof b.status !== 'string') throw missing('status', 'status', requestId);
  const metrics = isRecord(b.metrics) ? b.metrics : {};
  const out: FalStatusResult = { status: b.status };
  const queuePosition = num(b.queue_position);
  if (queuePosition !== undefined) out.queuePosition = queuePosition;
  if (typeof b.error === 'string') out.error = b.error;
  if (typeof b.error_type === 'string') out.errorType = b.error_type;
  const inference = num(metrics.inference_time);
  if (inference !== undefined) out.inferenceTimeS = inference;
  if (Array.isArray(b.logs))
    out.logs = b.logs.filter(isRecord).map((l) => ({ ...l, message: String(l.message) }));
  return out;
}

export function parseImageOutput(body: unknown, requestId: string): FalImageOutput {
  const b = record(body, 'result', requestId);
  if (!Array.isArray(b.images)) throw missing('result', 'images', requestId);
  const images = b.images.map((img, i): FalImageFile => {
    if (!isRecord(img) || typeof img.url !== 'string') throw missing('result', `images[${i}].url`, requestId);
    return img as unknown as FalImageFile;
  });
  if (typeof b.seed !== 'number') throw missing('result', 'seed', requestId);
  const nsfw = b.has_nsfw_concepts;
  if (
    nsfw !== undefined &&
    nsfw !== null &&
    !(Array.isArray(nsfw) && nsfw.every((v) => typeof v === 'boolean'))
  ) {
    throw missing('result', 'has_nsfw_concepts (boolean[])', requestId);
  }
  return { ...(b as object), images, seed: b.seed } as FalImageOutput;
}

function record(body: unknown, operation: FalOperation, requestId?: string): Json {
  if (!isRecord(body))
    throw new FalProtocolError(`fal ${operation} returned a non-object body`, { operation, requestId });
  return body;
}

function missing(operation: FalOperation, field: string, requestId?: string): FalProtocolError {
  return new FalProtocolError(`fal ${operation} answer lacks a valid "${field}"`, { operation, requestId });
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
