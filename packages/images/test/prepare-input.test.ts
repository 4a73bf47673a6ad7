import { ERROR_CODES, FluxqError, MEGAPIXEL } from '@fluxq/core';
import {
  bmpImage,
  type ImageFormat,
  imageMimeTypes,
  makeImage,
  pngHeaderDeclaring,
  textFile,
  truncated,
} from '@fluxq/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INPUT_LIMITS, type InputLimits, prepareInputImage } from '../src/index.js';

/** The FluxqError `prepareInputImage` rejects with (fails the test when it resolves). */
async function refusal(bytes: Uint8Array, limits?: InputLimits, param?: string): Promise<FluxqError> {
  const error = await prepareInputImage(bytes, limits, param).then(
    (prepared) => {
      throw new Error(`expected a refusal, got a ${prepared.width}x${prepared.height} ${prepared.format}`);
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(FluxqError);
  return error as FluxqError;
}

/** A JPEG whose pixels are stored `width`×`height` with an EXIF orientation tag and a copyright note. */
async function jpegWithExif(width: number, height: number, orientation: number): Promise<Buffer> {
  const jpeg = await makeImage({ width, height, format: 'jpeg' });
  return sharp(jpeg)
    .withMetadata({ orientation })
    .withExif({ IFD0: { Copyright: 'fluxq test fixture', Artist: 'someone' } })
    .jpeg()
    .toBuffer();
}

describe('prepareInputImage', () => {
  describe('when the image is a PNG, JPEG or WebP within the limits', () => {
    it.each<[ImageFormat]>([['png'], ['jpeg'], ['webp']])(
      'returns the decoded %s with its size and content type',
      async (format) => {
        const input = await makeImage({ width: 120, height: 80, format });
        const prepared = await prepareInputImage(input);
        expect(prepared).toMatchObject({
          width: 120,
          height: 80,
          format,
          contentType: imageMimeTypes[format],
        });
        const decoded = await sharp(prepared.bytes).metadata();
        expect(decoded).toMatchObject({ format, width: 120, height: 80 });
      },
    );
  });

  describe('when the image is of a type fal does not take', () => {
    it.each<[string, () => Promise<Buffer> | Buffer, string]>([
      ['a TIFF', () => makeImage({ width: 32, height: 32, format: 'tiff' }), 'TIFF'],
      ['a BMP', () => bmpImage(32, 32), 'BMP'],
      ['a GIF', () => makeImage({ width: 32, height: 32, format: 'gif' }), 'GIF'],
      ['an AVIF', () => makeImage({ width: 32, height: 32, format: 'avif' }), 'AVIF'],
      ['a text file', () => textFile(), 'no known image type'],
      ['an empty file', () => Buffer.alloc(0), 'no known image type'],
    ])('refuses %s with unsupported_image_type (415) naming what it is', async (_name, bytes, named) => {
      const error = await refusal(await bytes());
      expect(error).toMatchObject({ code: 'unsupported_image_type', status: 415, param: 'image' });
      expect(error.message).toContain(named);
      expect(error.message).toContain('accepted types are PNG, JPEG and WebP');
    });

    it('names the offending parameter when the caller gives one', async () => {
      const error = await refusal(bmpImage(8, 8), DEFAULT_INPUT_LIMITS, 'image[2]');
      expect(error).toMatchObject({ code: 'unsupported_image_type', param: 'image[2]' });
    });
  });

  describe('when the image is cut short', () => {
    it.each<[ImageFormat]>([['png'], ['jpeg'], ['webp']])(
      'refuses a truncated %s with invalid_image (400)',
      async (format) => {
        const whole = await makeImage({ width: 200, height: 150, format });
        const error = await refusal(truncated(whole));
        expect(error).toMatchObject({ code: 'invalid_image', status: ERROR_CODES.invalid_image });
        expect(error.status).toBe(400);
      },
    );

    it('refuses a file that is only a PNG signature with invalid_image (400)', async () => {
      const png = await makeImage({ width: 16, height: 16, format: 'png' });
      const error = await refusal(truncated(png, 8));
      expect(error).toMatchObject({ code: 'invalid_image', status: 400 });
    });
  });

  describe('when the image declares more pixels than may be decoded', () => {
    it('refuses a PNG header declaring 30000×30000 with image_too_large (413) without decoding it', async () => {
      const bomb = pngHeaderDeclaring(30_000, 30_000);
      const startedMs = performance.now();
      const error = await refusal(bomb);
      const elapsedMs = performance.now() - startedMs;
      expect(error).toMatchObject({ code: 'image_too_large', status: 413, param: 'image' });
      expect(error.message).toContain('30000x30000');
      // Decoding 900 MP would take seconds and gigabytes; reading the header takes a few ms.
      expect(elapsedMs).toBeLessThan(1_000);
    });

    it('applies the limits it is given rather than the defaults', async () => {
      const small = await makeImage({ width: 40, height: 30, format: 'png' });
      const error = await refusal(small, { maxInputPixels: 40 * 30 - 1, maxMegapixels: 4 });
      expect(error).toMatchObject({ code: 'image_too_large', status: 413 });
      await expect(
        prepareInputImage(small, { maxInputPixels: 40 * 30, maxMegapixels: 4 }),
      ).resolves.toMatchObject({
        width: 40,
        height: 30,
      });
    });
  });

  describe('when the image is larger than 4 MP', () => {
    it('resizes a 3000×2000 (6 MP) image to at most 4 MP keeping its aspect ratio', async () => {
      const input = await makeImage({ width: 3000, height: 2000, format: 'png' });
      const prepared = await prepareInputImage(input);
      expect(prepared.width * prepared.height).toBeLessThanOrEqual(4 * MEGAPIXEL);
      expect(prepared.width * prepared.height).toBeGreaterThan(3.9 * MEGAPIXEL);
      expect(Math.abs(prepared.width - (prepared.height * 3) / 2)).toBeLessThanOrEqual(1);
      const decoded = await sharp(prepared.bytes).metadata();
      expect(decoded).toMatchObject({ format: 'png', width: prepared.width, height: prepared.height });
    });

    it('leaves an image of exactly 4 MP at its size', async () => {
      const input = await makeImage({ width: 2048, height: 2048, format: 'jpeg' });
      const prepared = await prepareInputImage(input);
      expect(prepared).toMatchObject({ width: 2048, height: 2048, format: 'jpeg' });
    });

    // Regression: the resize target was once computed from the stored (pre-rotation) sides,
    // so a rotated portrait photo over 4 MP came back landscape and stretched.
    it('keeps a portrait photo portrait when it is both EXIF-rotated and resized', async () => {
      const input = await jpegWithExif(2400, 1800, 6); // 4.3 MP, displays as 1800×2400
      const prepared = await prepareInputImage(input);
      expect(prepared.width * prepared.height).toBeLessThanOrEqual(4 * MEGAPIXEL);
      expect(Math.abs(prepared.height - (prepared.width * 4) / 3)).toBeLessThanOrEqual(1);
    });
  });

  describe('when the image carries EXIF metadata', () => {
    it('applies the EXIF orientation: a 200×100 JPEG tagged orientation 6 comes back 100×200', async () => {
      const input = await jpegWithExif(200, 100, 6);
      expect(await sharp(input).metadata()).toMatchObject({ width: 200, height: 100, orientation: 6 });
      const prepared = await prepareInputImage(input);
      expect(prepared).toMatchObject({ width: 100, height: 200, format: 'jpeg' });
      const decoded = await sharp(prepared.bytes).metadata();
      expect(decoded).toMatchObject({ width: 100, height: 200 });
      expect(decoded.orientation ?? 1).toBe(1);
    });

    it('strips the metadata from the output', async () => {
      const input = await jpegWithExif(64, 64, 1);
      const before = await sharp(input).metadata();
      expect(before.exif).toBeDefined();
      expect(before.exif?.includes('fluxq test fixture')).toBe(true);
      const prepared = await prepareInputImage(input);
      const after = await sharp(prepared.bytes).metadata();
      expect(after.exif).toBeUndefined();
      expect(after.xmp).toBeUndefined();
      expect(prepared.bytes.includes('fluxq test fixture')).toBe(false);
    });
  });
});
