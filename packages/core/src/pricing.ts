import { MODELS, type ModelId } from './models.js';
import { type Dimensions, MEGAPIXEL } from './sizes.js';

/** Images above this many MP are resized down by fal, so they are billed at it. */
const BILLED_MP_CAP = 4;

export interface Cost {
  /** Billed megapixels: references plus outputs, each rounded up. */
  megapixels: number;
  /** Price in USD at the model's per-MP rate, rounded to 1/10000 of a cent. */
  usd: number;
}

/** One image's billed megapixels: rounded up to the next MP, capped at 4 MP. */
export function billedMegapixels({ width, height }: Dimensions): number {
  return Math.min(BILLED_MP_CAP, Math.ceil((width * height) / MEGAPIXEL));
}

/**
 * DESIGN §4 pricing: each reference and each output is rounded up to the next MP,
 * each reference counts at least 1 MP, images over 4 MP count as 4 MP.
 * A reference whose size is not known yet (an unfetched URL) counts as 1 MP.
 */
export function priceRequest(args: {
  model: ModelId;
  references: Array<Dimensions | undefined>;
  output: Dimensions;
  n: number;
}): Cost {
  const referenceMp = args.references.reduce<number>(
    (sum, dims) => sum + (dims ? Math.max(1, billedMegapixels(dims)) : 1),
    0,
  );
  const megapixels = referenceMp + args.n * billedMegapixels(args.output);
  const usd = Math.round(megapixels * MODELS[args.model].usdPerMegapixel * 1e6) / 1e6;
  return { megapixels, usd };
}
