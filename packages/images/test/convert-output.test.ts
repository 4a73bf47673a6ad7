import type { OutputFormat } from '@fluxq/core';
import { makeImage } from '@fluxq/testing';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { convertOutputImage, detectImageType, falOutputFormat } from '../src/index.js';

describe('falOutputFormat', () => {
  it.each<[OutputFormat, 'png' | 'jpeg' | 'webp']>([
    ['png', 'png'],
    ['jpeg', 'jpeg'],
    ['webp', 'webp'],
    ['gif', 'png'],
    ['avif', 'png'],
  ])('asks fal for %s → %s', (wanted, asked) => {
    expect(falOutputFormat(wanted)).toBe(asked);
  });
});

describe('convertOutputImage', () => {
  describe('when the client wants a format fal does not encode', () => {
    it.each<[OutputFormat, string, string]>([
      // sharp reports AVIF as its container format, HEIF.
      ['gif', 'gif', 'image/gif'],
      ['avif', 'heif', 'image/avif'],
    ])('encodes fal’s PNG as %s at the same size', async (wanted, sharpFormat, contentType) => {
      const png = await makeImage({ width: 96, height: 64, format: 'png' });
      const converted = await convertOutputImage(png, wanted);
      expect(converted).toMatchObject({ width: 96, height: 64, format: wanted, contentType });
      expect(detectImageType(converted.bytes)).toBe(wanted);
      const decoded = await sharp(converted.bytes).metadata();
      expect(decoded).toMatchObject({ format: sharpFormat, width: 96, height: 64 });
    });
  });

  describe('when a compression level is asked for', () => {
    it.each<[OutputFormat]>([['jpeg'], ['webp']])(
      're-encodes %s so that compression 10 is smaller than compression 95',
      async (format) => {
        const image = await makeImage({ width: 256, height: 256, format });
        const [low, high] = await Promise.all([
          convertOutputImage(image, format, 10),
          convertOutputImage(image, format, 95),
        ]);
        expect(low.bytes.length).toBeLessThan(high.bytes.length);
        for (const converted of [low, high]) {
          expect(detectImageType(converted.bytes)).toBe(format);
          expect(converted).toMatchObject({ width: 256, height: 256, format });
        }
      },
    );

    it('keeps a PNG byte-identical, since PNG has no quality setting', async () => {
      const png = await makeImage({ width: 64, height: 48, format: 'png' });
      const converted = await convertOutputImage(png, 'png', 10);
      expect(converted.bytes.equals(png)).toBe(true);
    });
  });

  describe('when no conversion is needed', () => {
    it.each<[OutputFormat, string]>([
      ['png', 'image/png'],
      ['jpeg', 'image/jpeg'],
      ['webp', 'image/webp'],
    ])('returns fal’s %s byte-identical with its size and content type', async (format, contentType) => {
      const image = await makeImage({ width: 64, height: 48, format });
      const converted = await convertOutputImage(image, format);
      expect(converted.bytes.equals(image)).toBe(true);
      expect(converted).toMatchObject({ width: 64, height: 48, format, contentType });
    });
  });

  describe('when fal’s bytes are broken', () => {
    it('rejects a truncated PNG it has to convert instead of returning a partial image', async () => {
      const png = await makeImage({ width: 64, height: 48, format: 'png' });
      await expect(convertOutputImage(png.subarray(0, png.length / 2), 'gif')).rejects.toThrow();
    });
  });
});
