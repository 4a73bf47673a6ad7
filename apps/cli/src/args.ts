import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in how the command was called: exit code 2, with the command's help hint. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Options every command takes. */
export const COMMON_OPTIONS = {
  'base-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What `edit` and `generate` both take: the image parameters and where outputs go. */
export const IMAGE_OPTIONS = {
  model: { type: 'string', short: 'm' },
  size: { type: 'string', short: 's' },
  format: { type: 'string', short: 'f' },
  n: { type: 'string', short: 'n' },
  out: { type: 'string', short: 'o' },
} as const;

export interface CommonOptions {
  baseUrl: string;
  apiKey: string | undefined;
  json: boolean;
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends OptionSpec> = ReturnType<
  typeof parseArgs<{
    args: string[];
    options: typeof COMMON_OPTIONS & T;
    allowPositionals: true;
    strict: true;
  }>
>;

/** `parseArgs` in strict mode; unknown options and missing values become a {@link UsageError}. */
export function parse<const T extends OptionSpec>(args: string[], options: T): Parsed<T> {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--base-url`/`--api-key`, else `FLUXQ_BASE_URL` (default http://127.0.0.1:8080) and `FLUXQ_API_KEY`. */
export function commonOptions(
  values: { 'base-url'?: string | boolean; 'api-key'?: string | boolean; json?: string | boolean },
  env: NodeJS.ProcessEnv,
): CommonOptions {
  const baseUrl = (values['base-url'] as string | undefined) ?? env.FLUXQ_BASE_URL ?? 'http://127.0.0.1:8080';
  if (!/^https?:\/\//.test(baseUrl))
    throw new UsageError(`--base-url must be an http(s) URL, got ${baseUrl}`);
  const apiKey = (values['api-key'] as string | undefined) ?? (env.FLUXQ_API_KEY || undefined);
  return { baseUrl, apiKey, json: values.json === true };
}

/** A whole number in [min, max], or a {@link UsageError} naming the option. */
export function intOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return n;
}

export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'gif', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function formatOption(value: string | undefined): OutputFormat | undefined {
  if (value === undefined) return undefined;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got ${value}`);
  }
  return value as OutputFormat;
}

/** `WxH` or `W:H`; the API checks the limits. */
export function sizeOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+[x:]\d+$/.test(value))
    throw new UsageError(`--size must be WxH (e.g. 1024x1024) or W:H, got ${value}`);
  return value;
}
