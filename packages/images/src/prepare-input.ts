import { FluxqError, MEGAPIXEL } from '@fluxq/core';
import sharp, { type Metadata } from 'sharp';
import { CONTENT_TYPES, describeDetected, detectImageType } from './sniff.js';

/** Input types fal's FLUX.2 edit endpoints take. */
export const ACCEPTED_INPUT_TYPES = ['png', 'jpeg', 'webp'] as const;
type AcceptedType = (typeof ACCEPTED_INPUT_TYPES)[number];

export interface InputLimits {
  /** Largest declared pixel count we will decode (decompression bombs are refused before decoding). */
  maxInputPixels: number;
  /** Inputs above this are resized down to it (DESIGN §4: 4 MP). */
  maxMegapixels: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = { maxInputPixels: 50_000_000, maxMegapixels: 4 };

export interface PreparedImage {
  bytes: Buffer;
  width: number;
  height: number;
  format: AcceptedType;
  contentType: string;
}

/**
 * Checks an input image and makes it ready for fal: sniffed by content (PNG, JPEG,
 * WebP only), refused before decoding when it declares too many pixels, fully decoded
 * (so truncated files are caught), EXIF orientation applied, metadata stripped, and
 * resized to `maxMegapixels` when larger. Throws `FluxqError` for every refusal.
 */
export async function prepareInputImage(
  bytes: Uint8Array,
  limits: InputLimits = DEFAULT_INPUT_LIMITS,
  param = 'image',
): Promise<PreparedImage> {
  const detected = detectImageType(bytes);
  if (!detected || !(ACCEPTED_INPUT_TYPES as readonly string[]).includes(detected)) {
    throw new FluxqError(
      'unsupported_image_type',
      `input image is ${describeDetected(detected)}; accepted types are PNG, JPEG and WebP`,
      { param },
    );
  }
  const format = detected as AcceptedType;
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw new FluxqError('invalid_image', `input image could not be read as ${format.toUpperCase()}`, {
      param,
      cause,
    });
  }
  // Sizes as displayed, after EXIF orientation (a rotated photo swaps its sides).
  const { width = 0, height = 0 } = metadata.autoOrient ?? metadata;
  if (width <= 0 || height <= 0) {
    throw new FluxqError('invalid_image', 'input image has no dimensions', { param });
  }
  if (width * height > limits.maxInputPixels) {
    throw new FluxqError(
      'image_too_large',
      `input image declares ${width}x${height} pixels; the limit is ${limits.maxInputPixels} pixels`,
      { param },
    );
  }
  try {
    const maxPixels = limits.maxMegapixels * MEGAPIXEL;
    const pipeline = sharp(bytes, { limitInputPixels: limits.maxInputPixels, failOn: 'truncated' }).rotate();
    if (width * height > maxPixels) {
      const scale = Math.sqrt(maxPixels / (width * height));
      pipeline.resize(Math.floor(width * scale), Math.floor(height * scale), { fit: 'fill' });
    }
    const encoded =
      format === 'jpeg'
        ? pipeline.jpeg({ quality: 92 })
        : format === 'webp'
          ? pipeline.webp({ quality: 92 })
          : pipeline.png();
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return {
      bytes: data,
      width: info.width,
      height: info.height,
      format,
      contentType: CONTENT_TYPES[format]!,
    };
  } catch (cause) {
    throw new FluxqError('invalid_image', `input image is corrupt or truncated (${format.toUpperCase()})`, {
      param,
      cause,
    });
  }
}
