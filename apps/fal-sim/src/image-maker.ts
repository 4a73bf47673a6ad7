import { createHash } from 'node:crypto';
import sharp, { type Sharp } from 'sharp';
import type { OutputFormat } from './input-schema.js';

/** Pixel size and encoding of one output image. */
export interface ImageSpec {
  width: number;
  height: number;
  format: OutputFormat;
}

/**
 * Makes the sim's output images. Everything is a pure function of its arguments so the
 * same prompt, seed and size give byte-identical files (fal.md: outputs deterministic per seed).
 */
export interface ImageMaker {
  /** A text-to-image output: a gradient and shapes coloured by a hash of the inputs, with a caption. */
  generate(spec: ImageSpec, prompt: string, seed: number, index: number): Promise<Buffer>;
  /** An edit output: the first source covered to size, recoloured, other sources inset, captioned. */
  edit(spec: ImageSpec, sources: Buffer[], prompt: string, seed: number, index: number): Promise<Buffer>;
  /** What fal's safety checker returns for a flagged image (fal.md §1.6). */
  black(spec: ImageSpec): Promise<Buffer>;
}

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

export const EXTENSIONS: Record<OutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

export function createImageMaker(): ImageMaker {
  return {
    async generate(spec, prompt, seed, index) {
      const bytes = digest(prompt, seed, index);
      const svg = generationSvg(spec.width, spec.height, bytes);
      const caption = captionSvg(spec.width, spec.height, prompt);
      return withCaptionFallback(caption, (overlay) =>
        encode(sharp(Buffer.from(svg)).composite(overlay ? [{ input: overlay }] : []), spec.format),
      );
    },
    async edit(spec, sources, prompt, seed, index) {
      const [first, ...others] = sources;
      if (!first) throw new Error('an edit needs a source image');
      const bytes = digest(prompt, seed, index);
      const thumbWidth = Math.max(1, Math.floor(spec.width / 5));
      const thumbHeight = Math.max(1, Math.floor(spec.height / 5));
      const insets = await Promise.all(
        others
          .slice(0, 3)
          .map((source) =>
            sharp(source).rotate().resize(thumbWidth, thumbHeight, { fit: 'cover' }).png().toBuffer(),
          ),
      );
      const insetLayers = insets.map((input, i) => ({
        input,
        left: spec.width - (i + 1) * (thumbWidth + 8),
        top: 8,
      }));
      const caption = captionSvg(spec.width, spec.height, `edit: ${prompt}`);
      return withCaptionFallback(caption, (overlay) => {
        const base = recolour(
          sharp(first, { limitInputPixels: 100_000_000 })
            .rotate()
            .resize(spec.width, spec.height, { fit: 'cover' }),
          bytes,
        );
        const layers = overlay ? [...insetLayers, { input: overlay }] : insetLayers;
        return encode(base.composite(layers), spec.format);
      });
    },
    async black(spec) {
      const create = { width: spec.width, height: spec.height, channels: 3 as const, background: '#000000' };
      return encode(sharp({ create }), spec.format);
    },
  };
}

function digest(prompt: string, seed: number, index: number): Buffer {
  return createHash('sha256').update(`${prompt}\u0000${seed}\u0000${index}`).digest();
}

/** Three visibly different treatments, picked by the seed hash, so edits never look like their input. */
function recolour(image: Sharp, bytes: Buffer): Sharp {
  const variant = bytes[0]! % 3;
  if (variant === 0)
    return image.modulate({ hue: 60 + (bytes[1]! % 240), saturation: 1.6, brightness: 1.05 });
  if (variant === 1) return image.negate({ alpha: false });
  return image.tint({ r: bytes[2]!, g: bytes[3]!, b: bytes[4]! });
}

function encode(image: Sharp, format: OutputFormat): Promise<Buffer> {
  const flat = image.removeAlpha();
  if (format === 'jpeg') return flat.jpeg({ quality: 88 }).toBuffer();
  if (format === 'webp') return flat.webp({ quality: 85 }).toBuffer();
  return flat.png({ compressionLevel: 6 }).toBuffer();
}

/**
 * Text rendering needs fonts that a slim container may lack; a caption that fails to render
 * is dropped rather than failing the request.
 */
async function withCaptionFallback(
  caption: Buffer,
  render: (overlay: Buffer | undefined) => Promise<Buffer>,
): Promise<Buffer> {
  try {
    return await render(caption);
  } catch (error) {
    if (!(error instanceof Error) || !/svg|font|text|pango|rsvg/i.test(error.message)) throw error;
    return render(undefined);
  }
}

function generationSvg(width: number, height: number, bytes: Buffer): string {
  const from = hslHex(bytes[0]! * 1.41, 0.7, 0.55);
  const to = hslHex(bytes[1]! * 1.41, 0.65, 0.35);
  const shapes: string[] = [];
  for (let i = 0; i < 7; i++) {
    const b = (k: number) => bytes[(2 + i * 4 + k) % bytes.length]!;
    const cx = Math.round((b(0) / 255) * width);
    const cy = Math.round((b(1) / 255) * height);
    const r = Math.round((0.05 + (b(2) / 255) * 0.25) * Math.min(width, height));
    const fill = hslHex(b(3) * 1.41, 0.8, 0.6);
    shapes.push(`<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}" fill-opacity="0.55"/>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">`,
    `<stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient></defs>`,
    `<rect width="${width}" height="${height}" fill="url(#g)"/>`,
    ...shapes,
    '</svg>',
  ].join('');
}

function captionSvg(width: number, height: number, text: string): Buffer {
  const barHeight = Math.max(32, Math.round(height * 0.08));
  const fontSize = Math.round(barHeight * 0.45);
  const maxChars = Math.max(8, Math.floor(width / (fontSize * 0.6)));
  const line = text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
  const y = height - barHeight;
  return Buffer.from(
    [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
      `<rect x="0" y="${y}" width="${width}" height="${barHeight}" fill="#000000" fill-opacity="0.55"/>`,
      `<text x="${Math.round(fontSize * 0.6)}" y="${y + Math.round(barHeight * 0.66)}" font-size="${fontSize}"`,
      ` font-family="DejaVu Sans, Arial, Helvetica, sans-serif" fill="#ffffff">${escapeXml(line)}</text>`,
      '</svg>',
    ].join(''),
  );
}

function escapeXml(text: string): string {
  return (
    text
      // Characters XML 1.0 forbids would make the whole SVG unparseable.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}

/** HSL (hue in degrees, s and l in 0..1) to `#rrggbb`; rsvg's CSS colour support varies by version. */
function hslHex(hue: number, s: number, l: number): string {
  const h = (((hue % 360) + 360) % 360) / 360;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t0: number) => {
    const t = t0 < 0 ? t0 + 1 : t0 > 1 ? t0 - 1 : t0;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  return `#${[h + 1 / 3, h, h - 1 / 3]
    .map((t) =>
      Math.round(channel(t) * 255)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}
