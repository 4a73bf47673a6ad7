import type { Operation } from '@fluxq/core';
import { z } from 'zod';
import { isRecord, type ValidationDetail } from './outcomes.js';

/** fal's `image_size` presets (fal.md §1.5), as [width, height]. */
export const IMAGE_SIZE_PRESETS = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
} as const satisfies Record<string, readonly [number, number]>;

export type ImageSizePreset = keyof typeof IMAGE_SIZE_PRESETS;
export type OutputFormat = 'jpeg' | 'png' | 'webp';

/** fal drops `image_urls` entries past this many instead of rejecting them (fal.md §1.3). */
const MAX_INPUT_IMAGES = 4;

const side = z.int().min(512).max(2048).default(512);
const imageSizeSchema = z.union([
  z.enum(Object.keys(IMAGE_SIZE_PRESETS) as [ImageSizePreset, ...ImageSizePreset[]]),
  z.object({ width: side, height: side }),
]);

// Unknown keys pass, as pydantic models on fal ignore extra fields.
const commonFields = {
  prompt: z.string(),
  image_size: imageSizeSchema.optional(),
  num_images: z.int().min(1).max(4).default(1),
  output_format: z.enum(['jpeg', 'png', 'webp']).default('png'),
  guidance_scale: z.number().min(0).max(20).default(2.5),
  seed: z.int().optional(),
  sync_mode: z.boolean().default(false),
  enable_safety_checker: z.boolean().default(true),
  enable_prompt_expansion: z.boolean().default(false),
  num_inference_steps: z.int().min(4).max(50).optional(),
  acceleration: z.enum(['none', 'regular', 'high']).optional(),
};
const generateSchema = z.object(commonFields);
const editSchema = z.object({ ...commonFields, image_urls: z.array(z.string()).min(1) });

/** A validated model input with fal's defaults applied. */
export interface ModelParams {
  prompt: string;
  /** Input images (edits only), at most 4. */
  imageUrls: string[];
  width: number;
  height: number;
  numImages: number;
  outputFormat: OutputFormat;
  /** The seed asked for, if any; the runner draws one otherwise. */
  seed: number | undefined;
  /** Return images as data URIs instead of CDN URLs. */
  syncMode: boolean;
}

export type ParsedInput = { ok: true; params: ModelParams } | { ok: false; detail: ValidationDetail[] };

export function parseModelInput(input: unknown, operation: Operation): ParsedInput {
  if (!isRecord(input)) {
    return {
      ok: false,
      detail: [{ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type' }],
    };
  }
  if (operation === 'edit') {
    const parsed = editSchema.safeParse(input);
    if (!parsed.success) return { ok: false, detail: toDetail(parsed.error.issues, input) };
    const { image_urls, ...rest } = parsed.data;
    return { ok: true, params: toParams(rest, image_urls.slice(0, MAX_INPUT_IMAGES), 'square_hd') };
  }
  const parsed = generateSchema.safeParse(input);
  if (!parsed.success) return { ok: false, detail: toDetail(parsed.error.issues, input) };
  return { ok: true, params: toParams(parsed.data, [], 'landscape_4_3') };
}

function toParams(
  data: z.infer<typeof generateSchema>,
  imageUrls: string[],
  defaultSize: ImageSizePreset,
): ModelParams {
  const size = data.image_size ?? defaultSize;
  const [width, height] = typeof size === 'string' ? IMAGE_SIZE_PRESETS[size] : [size.width, size.height];
  return {
    prompt: data.prompt,
    imageUrls,
    width,
    height,
    numImages: data.num_images,
    outputFormat: data.output_format,
    seed: data.seed,
    syncMode: data.sync_mode,
  };
}

/** Turns zod issues into the `{loc, msg, type}` entries fal's pydantic models answer with. */
function toDetail(issues: z.core.$ZodIssue[], input: Record<string, unknown>): ValidationDetail[] {
  return issues.map((issue) => {
    const loc = ['body', ...issue.path.map((key) => (typeof key === 'number' ? key : String(key)))];
    return { loc, ...describe(issue, valueAt(input, issue.path)) };
  });
}

function describe(issue: z.core.$ZodIssue, value: unknown): { msg: string; type: string } {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return { msg: 'Field required', type: 'missing' };
      return { msg: `Input should be a valid ${issue.expected}`, type: `${issue.expected}_type` };
    case 'too_big':
      return issue.origin === 'array'
        ? { msg: `List should have at most ${issue.maximum} items`, type: 'too_long' }
        : { msg: `Input should be less than or equal to ${issue.maximum}`, type: 'less_than_equal' };
    case 'too_small':
      return issue.origin === 'array'
        ? { msg: `List should have at least ${issue.minimum} item`, type: 'too_short' }
        : { msg: `Input should be greater than or equal to ${issue.minimum}`, type: 'greater_than_equal' };
    case 'invalid_value':
      return { msg: `Input should be ${issue.values.map((v) => `'${String(v)}'`).join(', ')}`, type: 'enum' };
    case 'invalid_union':
      return { msg: 'Input should be a preset name or an object with width and height', type: 'union_error' };
    default:
      return { msg: issue.message, type: 'value_error' };
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
