import type { OutputFormat } from '@fluxq/core';
import sharp from 'sharp';
import { CONTENT_TYPES } from './sniff.js';

/** Formats fal encodes itself; the rest are converted from fal's PNG. */
export const FAL_NATIVE_FORMATS = ['png', 'jpeg', 'webp'] as const;

/** The `output_format` to ask fal for, given what the client wants. */
export function falOutputFormat(wanted: OutputFormat): 'png' | 'jpeg' | 'webp' {
  return (FAL_NATIVE_FORMATS as readonly string[]).includes(wanted)
    ? (wanted as 'png' | 'jpeg' | 'webp')
    : 'png';
}

export interface ConvertedImage {
  bytes: Buffer;
  width: number;
  height: number;
  contentType: string;
  format: OutputFormat;
}

/**
 * Gives an output image in the wanted format: gif/avif are encoded with sharp, and
 * lossy formats are re-encoded when a compression level was asked for (fal has no
 * such parameter). Otherwise fal's bytes are kept as they are.
 */
export async function convertOutputImage(
  bytes: Uint8Array,
  wanted: OutputFormat,
  compression?: number,
): Promise<ConvertedImage> {
  const reencode =
    !(FAL_NATIVE_FORMATS as readonly string[]).includes(wanted) ||
    (compression !== undefined && wanted !== 'png');
  const quality = compression === undefined ? undefined : Math.max(1, compression);
  let pipeline = sharp(bytes, { failOn: 'truncated' });
  if (reencode) {
    if (wanted === 'gif') pipeline = pipeline.gif();
    else if (wanted === 'avif') pipeline = pipeline.avif({ quality: quality ?? 60 });
    else if (wanted === 'jpeg') pipeline = pipeline.jpeg({ quality });
    else if (wanted === 'webp') pipeline = pipeline.webp({ quality });
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return {
      bytes: data,
      width: info.width,
      height: info.height,
      contentType: CONTENT_TYPES[wanted]!,
      format: wanted,
    };
  }
  const { width = 0, height = 0 } = await pipeline.metadata();
  return { bytes: Buffer.from(bytes), width, height, contentType: CONTENT_TYPES[wanted]!, format: wanted };
}
