import { createSeededRandom } from '@fluxq/runtime';
import sharp from 'sharp';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'tiff' | 'gif' | 'avif';

export interface MakeImageOptions {
  /** Unit: pixels. */
  width: number;
  /** Unit: pixels. */
  height: number;
  format: ImageFormat;
  /** Picks the colours and shapes; the same seed gives the same image. @defaultValue 1 */
  seed?: number;
}

/** MIME type of each format `makeImage` writes. */
export const imageMimeTypes: Readonly<Record<ImageFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  tiff: 'image/tiff',
  gif: 'image/gif',
  avif: 'image/avif',
};

/**
 * A real encoded image with visible structure: a diagonal gradient, a few rectangles and a
 * disc, all derived from `seed`.
 */
export async function makeImage(options: MakeImageOptions): Promise<Buffer> {
  const { width, height, format, seed = 1 } = options;
  const raw = paintPixels(width, height, seed);
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  switch (format) {
    case 'png':
      return image.png().toBuffer();
    case 'jpeg':
      return image.jpeg({ quality: 90 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 90 }).toBuffer();
    case 'tiff':
      return image.tiff().toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    case 'avif':
      return image.avif({ quality: 60, effort: 0 }).toBuffer();
  }
}

/** Raw RGB pixels (3 bytes each, row-major) of the picture `makeImage` encodes. */
export function paintPixels(width: number, height: number, seed: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image dimensions must be positive integers, got ${width}x${height}`);
  }
  const random = createSeededRandom(seed);
  const tint = [random() * 255, random() * 255, random() * 255] as const;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const u = x / width;
      const v = y / height;
      pixels[i] = (u * 255 + tint[0]) / 2;
      pixels[i + 1] = (v * 255 + tint[1]) / 2;
      pixels[i + 2] = ((1 - u) * 255 + tint[2]) / 2;
    }
  }
  for (let shape = 0; shape < 4; shape++) {
    const color = [random() * 255, random() * 255, random() * 255] as const;
    const x0 = Math.floor(random() * width * 0.8);
    const y0 = Math.floor(random() * height * 0.8);
    const x1 = Math.min(width, x0 + Math.ceil(width * (0.1 + random() * 0.3)));
    const y1 = Math.min(height, y0 + Math.ceil(height * (0.1 + random() * 0.3)));
    fill(pixels, width, color, (x, y) => x >= x0 && x < x1 && y >= y0 && y < y1, [x0, y0, x1, y1]);
  }
  const cx = width * (0.3 + random() * 0.4);
  const cy = height * (0.3 + random() * 0.4);
  const r = Math.max(1, Math.min(width, height) * (0.1 + random() * 0.15));
  const disc = [255 - tint[0], 255 - tint[1], 255 - tint[2]] as const;
  const box = [Math.floor(cx - r), Math.floor(cy - r), Math.ceil(cx + r), Math.ceil(cy + r)] as const;
  fill(pixels, width, disc, (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r, box);
  return pixels;
}

function fill(
  pixels: Buffer,
  width: number,
  color: readonly [number, number, number],
  inside: (x: number, y: number) => boolean,
  [x0, y0, x1, y1]: readonly [number, number, number, number],
): void {
  const height = pixels.length / 3 / width;
  for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) {
      if (!inside(x, y)) continue;
      const i = (y * width + x) * 3;
      pixels[i] = color[0];
      pixels[i + 1] = color[1];
      pixels[i + 2] = color[2];
    }
  }
}

/** `data:<mime>;base64,…` */
export function makeDataUri(buffer: Buffer, mime: string): string {
  return `data:${mime};base64,${buffer.toString('base64')}`;
}

/** The first `keepBytes` bytes of a file (a copy): a download cut short. @defaultValue half of it */
export function truncated(buffer: Buffer, keepBytes: number = Math.floor(buffer.length / 2)): Buffer {
  return Buffer.from(buffer.subarray(0, Math.max(0, keepBytes)));
}

/** A plain-text file, for "not an image" cases. */
export function textFile(text = 'This is a plain text file, not an image.\n'): Buffer {
  return Buffer.from(text, 'utf8');
}
