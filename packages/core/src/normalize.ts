import type { z } from 'zod';
import { type ErrorCode, FluxqError } from './errors.js';
import { type ImageInput, parseImageInput } from './image-input.js';
import { DEFAULT_MODEL_ID, isModelId, MODEL_IDS, type ModelId, type Operation } from './models.js';
import {
  imageRequestSchema,
  MAX_INPUT_IMAGES,
  NON_PASSTHROUGH_FIELDS,
  type OutputFormat,
  PROMPT_MAX_CHARS,
  type Priority,
  RESERVED_FAL_FIELDS,
  type ResponseFormat,
} from './request-schema.js';
import {
  type Dimensions,
  exactSizeProblem,
  nearestAspectRatio,
  parseExactSize,
  parseRatio,
  resolutionToMegapixels,
  resolveOutputSize,
  type SizeRule,
} from './sizes.js';

/** A scalar passed to fal unchanged (DESIGN §4 "anything else"). */
export type PassthroughValue = string | number | boolean;

export const MAX_PASSTHROUGH_FIELDS = 20;
const PASSTHROUGH_KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const PASSTHROUGH_STRING_MAX = 2_000;

/** Prompt and generation parameters: shared by a normalized request and a job's stored input. */
export interface ImageParams {
  prompt: string;
  /** How the output size is chosen; `input` rules resolve once the first input is read. */
  size_rule: SizeRule;
  n: number;
  seed?: number;
  response_format: ResponseFormat;
  output_format: OutputFormat;
  output_compression?: number;
  /** fal `guidance_scale`, from `cfg_scale`. */
  guidance_scale?: number;
  /** fal `enable_prompt_expansion`, from `prompt_enhancement`. */
  enable_prompt_expansion?: boolean;
  enable_safety_checker?: boolean;
  sync_mode?: boolean;
  passthrough: Record<string, PassthroughValue>;
}

/** The one normalized form every entry point produces (DESIGN §4). */
export interface NormalizedRequest extends ImageParams {
  model: ModelId;
  operation: Operation;
  images: ImageInput[];
  priority: Priority;
}

function fail(code: ErrorCode, message: string, param: string | null): never {
  throw new FluxqError(code, message, { param });
}

function codeForIssue(issue: z.core.$ZodIssue): { code: ErrorCode; param: string } {
  const param = String(issue.path[0] ?? '');
  if (param === 'prompt' && issue.code === 'invalid_type') return { code: 'missing_parameter', param };
  return { code: 'invalid_parameter', param };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `image` / `images` may each be one value or a list; both together are merged in order. */
function collectImages(raw: Record<string, unknown>): ImageInput[] {
  const values: unknown[] = [];
  for (const field of ['image', 'images'] as const) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) values.push(...value);
    else values.push(value);
  }
  if (values.length > MAX_INPUT_IMAGES) {
    fail(
      'too_many_images',
      `at most ${MAX_INPUT_IMAGES} input images are allowed; got ${values.length}`,
      'images',
    );
  }
  return values.map((value, index) => {
    const parsed = parseImageInput(value);
    if ('code' in parsed) fail(parsed.code, `images[${index}]: ${parsed.message}`, 'images');
    return parsed;
  });
}

function sizeRuleFor(
  fields: { size?: string; aspect_ratio?: string; resolution?: string | number },
  operation: Operation,
): SizeRule {
  let megapixels = 1;
  if (fields.resolution !== undefined) {
    const mp = resolutionToMegapixels(fields.resolution);
    if (mp === undefined) {
      fail(
        'invalid_parameter',
        'resolution must be 0.5K, 1K, 2K, 4K or a number of megapixels such as 0.25 or 1',
        'resolution',
      );
    }
    megapixels = mp;
  }
  // `size` wins over `aspect_ratio` and `resolution`.
  if (fields.size !== undefined && fields.size.trim().toLowerCase() !== 'auto') {
    const exact = parseExactSize(fields.size);
    if (exact) {
      const problem = exactSizeProblem(exact);
      if (problem)
        fail('invalid_size', `size ${exact.width}x${exact.height} is not supported: ${problem}`, 'size');
      return { kind: 'exact', ...exact };
    }
    const ratio = parseRatio(fields.size);
    if (ratio === undefined) {
      fail(
        'invalid_size',
        'size must be "WxH" (e.g. "1024x1024") or an aspect ratio "W:H" (e.g. "16:9")',
        'size',
      );
    }
    return { kind: 'ratio', ratio: nearestAspectRatio(ratio), megapixels };
  }
  if (fields.aspect_ratio !== undefined) {
    const ratio = parseRatio(fields.aspect_ratio);
    if (ratio === undefined) fail('invalid_parameter', 'aspect_ratio must look like "16:9"', 'aspect_ratio');
    return { kind: 'ratio', ratio: nearestAspectRatio(ratio), megapixels };
  }
  return operation === 'edit' ? { kind: 'input', megapixels } : { kind: 'ratio', ratio: '1:1', megapixels };
}

function collectPassthrough(raw: Record<string, unknown>): Record<string, PassthroughValue> {
  const passthrough: Record<string, PassthroughValue> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (NON_PASSTHROUGH_FIELDS.has(key) || value === undefined) continue;
    // Own entries only: `constructor` or `__proto__` must not find Object.prototype's.
    const ours = Object.hasOwn(RESERVED_FAL_FIELDS, key) ? RESERVED_FAL_FIELDS[key] : undefined;
    if (ours) fail('unknown_parameter', `${key} is set by fluxq; use ${ours} instead`, key);
    if (!PASSTHROUGH_KEY.test(key))
      fail('unknown_parameter', `parameter name "${key.slice(0, 64)}" is not valid`, key.slice(0, 64));
    const scalar =
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= PASSTHROUGH_STRING_MAX);
    if (!scalar) {
      fail(
        'invalid_parameter',
        `${key}: only string (up to ${PASSTHROUGH_STRING_MAX} chars), number or boolean values pass through to fal`,
        key,
      );
    }
    passthrough[key] = value as PassthroughValue;
  }
  if (Object.keys(passthrough).length > MAX_PASSTHROUGH_FIELDS) {
    fail('invalid_parameter', `at most ${MAX_PASSTHROUGH_FIELDS} extra parameters pass through to fal`, null);
  }
  return passthrough;
}

/**
 * Validates and normalizes an image request from any entry point. Throws a
 * `FluxqError` (a 4xx) for anything it refuses, and nothing else.
 */
export function normalizeImageRequest(raw: unknown): NormalizedRequest {
  if (!isPlainObject(raw)) fail('invalid_request', 'the request body must be a JSON object', null);
  const parsed = imageRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const { code, param } = codeForIssue(issue);
    fail(code, issue.message, param);
  }
  const fields = parsed.data;
  const prompt = fields.prompt;
  if (prompt.trim().length === 0) fail('missing_parameter', 'prompt must not be empty', 'prompt');
  if (prompt.length > PROMPT_MAX_CHARS) {
    fail(
      'prompt_too_long',
      `prompt is ${prompt.length} characters; the limit is ${PROMPT_MAX_CHARS}`,
      'prompt',
    );
  }
  const model = fields.model ?? DEFAULT_MODEL_ID;
  if (!isModelId(model)) {
    fail(
      'unknown_model',
      `model "${model.slice(0, 100)}" is not available; use one of ${MODEL_IDS.join(', ')}`,
      'model',
    );
  }
  const images = collectImages(raw);
  const operation: Operation = images.length > 0 ? 'edit' : 'generate';

  const request: NormalizedRequest = {
    model,
    operation,
    prompt,
    images,
    size_rule: sizeRuleFor(fields, operation),
    n: fields.n ?? 1,
    response_format: fields.response_format ?? 'url',
    output_format: fields.output_format ?? 'png',
    priority: fields.priority ?? 'default',
    passthrough: collectPassthrough(raw),
  };
  if (fields.seed !== undefined) request.seed = fields.seed;
  if (fields.output_compression !== undefined) request.output_compression = fields.output_compression;
  if (fields.cfg_scale !== undefined) request.guidance_scale = fields.cfg_scale;
  if (fields.prompt_enhancement !== undefined) request.enable_prompt_expansion = fields.prompt_enhancement;
  if (fields.enable_safety_checker !== undefined)
    request.enable_safety_checker = fields.enable_safety_checker;
  if (fields.sync_mode !== undefined) request.sync_mode = fields.sync_mode;
  return request;
}

/** The output dimensions of a request, when they can be known without reading an input. */
export function knownOutputSize(request: NormalizedRequest, firstInput?: Dimensions): Dimensions | undefined {
  const rule = request.size_rule;
  if (rule.kind === 'input' && !firstInput) return undefined;
  return resolveOutputSize(rule, firstInput);
}
