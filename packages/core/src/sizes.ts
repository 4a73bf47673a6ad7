/**
 * Output size rules (DESIGN §4): exact `WxH`, nearest supported aspect ratio and
 * resolution tier, fal's 512..2048 limits, multiples of 16.
 */

export const MIN_SIDE = 512;
export const MAX_SIDE = 2048;
export const SIDE_MULTIPLE = 16;
/** 1 MP as used for sizes and pricing. */
export const MEGAPIXEL = 1024 * 1024;
/** Largest output area: 2048×2048. */
export const MAX_MEGAPIXELS = (MAX_SIDE * MAX_SIDE) / MEGAPIXEL;

export interface Dimensions {
  width: number;
  height: number;
}

/** Aspect ratios a request's `aspect_ratio` snaps to. */
export const SUPPORTED_ASPECT_RATIOS = [
  '1:1',
  '5:4',
  '4:5',
  '4:3',
  '3:4',
  '3:2',
  '2:3',
  '16:9',
  '9:16',
  '21:9',
  '9:21',
] as const;

/** Resolution tiers in megapixels; named tiers are `0.5K`=0.25, `1K`=1, `2K`=4, `4K`=16 (capped to 4). */
export const RESOLUTION_TIERS_MP = [0.25, 0.5, 1, 2, 4] as const;
const NAMED_RESOLUTIONS: Record<string, number> = { '0.5k': 0.25, '1k': 1, '2k': 4, '4k': 16 };

/** How the output size is decided once the first input's size is known. */
export type SizeRule =
  | { kind: 'exact'; width: number; height: number }
  | { kind: 'ratio'; ratio: string; megapixels: number }
  /** Edits without an explicit shape keep the first input's aspect ratio. */
  | { kind: 'input'; megapixels: number };

function ratioValue(ratio: string): number {
  const [w, h] = ratio.split(':').map(Number);
  return (w ?? 1) / (h ?? 1);
}

/** Nearest supported ratio by log-ratio distance (so 2:1 and 1:2 are equally far from 1:1). */
export function nearestAspectRatio(value: number): string {
  let best: string = SUPPORTED_ASPECT_RATIOS[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of SUPPORTED_ASPECT_RATIOS) {
    const distance = Math.abs(Math.log(value) - Math.log(ratioValue(candidate)));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Parses `W:H` (positive numbers); undefined when it is not that shape. */
export function parseRatio(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!match) return undefined;
  const w = Number(match[1]);
  const h = Number(match[2]);
  if (!(w > 0 && h > 0) || !Number.isFinite(w / h)) return undefined;
  return w / h;
}

/** Parses `WxH`; undefined when it is not that shape. */
export function parseExactSize(text: string): Dimensions | undefined {
  const match = /^\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*$/.exec(text);
  if (!match) return undefined;
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** Why `WxH` is outside fal's limits, or undefined when it fits. */
export function exactSizeProblem({ width, height }: Dimensions): string | undefined {
  for (const side of [width, height]) {
    if (side < MIN_SIDE || side > MAX_SIDE) {
      return `each side must be between ${MIN_SIDE} and ${MAX_SIDE} pixels`;
    }
    if (side % SIDE_MULTIPLE !== 0) return `each side must be a multiple of ${SIDE_MULTIPLE}`;
  }
  return undefined;
}

/**
 * Megapixels for a `resolution` value: a named tier (`1K`), a number of megapixels
 * (`0.25`, `"2"`, `"2MP"`), snapped to the nearest tier and capped at 2048×2048.
 * Undefined when the value is not understood.
 */
export function resolutionToMegapixels(value: string | number): number | undefined {
  let mp: number | undefined;
  if (typeof value === 'number') mp = value;
  else {
    const text = value.trim().toLowerCase();
    mp = NAMED_RESOLUTIONS[text];
    if (mp === undefined) {
      const match = /^(\d+(?:\.\d+)?)\s*(mp)?$/.exec(text);
      if (match) mp = Number(match[1]);
    }
  }
  if (mp === undefined || !Number.isFinite(mp) || mp <= 0) return undefined;
  return nearestTier(Math.min(mp, MAX_MEGAPIXELS));
}

function nearestTier(mp: number): number {
  let best: number = RESOLUTION_TIERS_MP[0];
  for (const tier of RESOLUTION_TIERS_MP) {
    if (Math.abs(Math.log(mp) - Math.log(tier)) < Math.abs(Math.log(mp) - Math.log(best))) best = tier;
  }
  return best;
}

function toMultiple(value: number): number {
  return Math.max(SIDE_MULTIPLE, Math.round(value / SIDE_MULTIPLE) * SIDE_MULTIPLE);
}

/**
 * Dimensions with aspect ratio `ratio` (width/height) and about `megapixels` MP,
 * each side a multiple of 16 within 512..2048. Extreme ratios are clamped to the limits.
 */
export function dimensionsFor(ratio: number, megapixels: number): Dimensions {
  const area = megapixels * MEGAPIXEL;
  let width = Math.sqrt(area * ratio);
  let height = Math.sqrt(area / ratio);
  const shrink = MAX_SIDE / Math.max(width, height);
  if (shrink < 1) {
    width *= shrink;
    height *= shrink;
  }
  const grow = MIN_SIDE / Math.min(width, height);
  if (grow > 1) {
    width *= grow;
    height *= grow;
  }
  const clamp = (side: number) => Math.min(MAX_SIDE, Math.max(MIN_SIDE, toMultiple(side)));
  return { width: clamp(width), height: clamp(height) };
}

/** The output size a rule gives, given the first input's size for `input` rules. */
export function resolveOutputSize(rule: SizeRule, firstInput?: Dimensions): Dimensions {
  switch (rule.kind) {
    case 'exact':
      return { width: rule.width, height: rule.height };
    case 'ratio':
      return dimensionsFor(ratioValue(rule.ratio), rule.megapixels);
    case 'input': {
      if (!firstInput) throw new Error('an input-relative size needs the first input image');
      return dimensionsFor(firstInput.width / firstInput.height, rule.megapixels);
    }
  }
}

/** `fal`'s `num_images` is at most 4, so larger `n` becomes several requests. */
export const FAL_MAX_IMAGES_PER_REQUEST = 4;

/** Splits `n` images into fal request sizes: 10 → [4, 4, 2]. */
export function splitImageCount(n: number): number[] {
  const chunks: number[] = [];
  for (let left = n; left > 0; left -= FAL_MAX_IMAGES_PER_REQUEST) {
    chunks.push(Math.min(FAL_MAX_IMAGES_PER_REQUEST, left));
  }
  return chunks;
}
