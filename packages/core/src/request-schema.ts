import { z } from 'zod';

/**
 * Field-level schema of an image request, shared by every entry point (JSON bodies,
 * multipart fields, batch lines). Multipart fields arrive as strings, so numbers and
 * booleans accept their string forms; anything else is a 400 naming the field.
 */

export const PROMPT_MAX_CHARS = 32_000;
export const MAX_INPUT_IMAGES = 4;
export const MAX_N = 10;
export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'gif', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const RESPONSE_FORMATS = ['url', 'b64_json'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];
export const PRIORITIES = ['interactive', 'default', 'bulk'] as const;
export type Priority = (typeof PRIORITIES)[number];

const numberFromString = (value: unknown) =>
  typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;

const booleanFromString = (value: unknown) => {
  if (typeof value !== 'string') return value;
  const text = value.trim().toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(text)) return true;
  if (['false', '0', 'off', 'no'].includes(text)) return false;
  return value;
};

const int = (min: number, max: number, what: string) =>
  z.preprocess(
    numberFromString,
    z
      .number({ error: `${what} must be an integer` })
      .int({ error: `${what} must be an integer` })
      .min(min, { error: `${what} must be between ${min} and ${max}` })
      .max(max, { error: `${what} must be between ${min} and ${max}` }),
  );

const bool = (what: string) =>
  z.preprocess(booleanFromString, z.boolean({ error: `${what} must be true or false` }));

const enumOf = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
    z.enum(values, { error: `${what} must be one of ${values.join(', ')}` }),
  );

export const imageRequestFields = {
  model: z.string({ error: 'model must be a string' }).optional(),
  prompt: z.string({ error: 'prompt is required and must be a string' }),
  size: z.string({ error: 'size must be a string such as "1024x1024" or "16:9"' }).optional(),
  aspect_ratio: z.string({ error: 'aspect_ratio must be a string such as "16:9"' }).optional(),
  resolution: z
    .union([z.string(), z.number()], {
      error: 'resolution must be 0.5K, 1K, 2K, 4K or a number of megapixels',
    })
    .optional(),
  n: int(1, MAX_N, 'n').optional(),
  seed: int(0, Number.MAX_SAFE_INTEGER, 'seed').optional(),
  response_format: enumOf(RESPONSE_FORMATS, 'response_format').optional(),
  output_format: z
    .preprocess(
      (value) => (typeof value === 'string' && value.trim().toLowerCase() === 'jpg' ? 'jpeg' : value),
      enumOf(OUTPUT_FORMATS, 'output_format'),
    )
    .optional(),
  output_compression: int(0, 100, 'output_compression').optional(),
  cfg_scale: z
    .preprocess(
      numberFromString,
      z
        .number({ error: 'cfg_scale must be a number' })
        .min(0, { error: 'cfg_scale must be between 0 and 20' })
        .max(20, { error: 'cfg_scale must be between 0 and 20' }),
    )
    .optional(),
  prompt_enhancement: z
    .preprocess(booleanFromString, z.boolean({ error: 'prompt_enhancement must be "on" or "off"' }))
    .optional(),
  enable_safety_checker: bool('enable_safety_checker').optional(),
  sync_mode: bool('sync_mode').optional(),
  priority: enumOf(PRIORITIES, 'priority').optional(),
};

/** Names that fal uses for values we set ourselves; a request must use ours instead. */
export const RESERVED_FAL_FIELDS: Record<string, string> = {
  image_size: 'size',
  num_images: 'n',
  image_urls: 'images',
  guidance_scale: 'cfg_scale',
  enable_prompt_expansion: 'prompt_enhancement',
};

/** Fields of a request that are ours and never passed through to fal. */
export const NON_PASSTHROUGH_FIELDS = new Set([
  ...Object.keys(imageRequestFields),
  'image',
  'images',
  'webhook_url',
  'webhook_events',
  'metadata',
  'custom_id',
  'user',
]);

export const imageRequestSchema = z.object(imageRequestFields);
export type ImageRequestFields = z.infer<typeof imageRequestSchema>;
