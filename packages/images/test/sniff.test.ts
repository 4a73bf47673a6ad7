import { bmpImage, makeImage, pngHeaderDeclaring, textFile, truncated } from '@fluxq/testing';
import { describe, expect, it } from 'vitest';
import { type DetectedType, describeDetected, detectImageType } from '../src/index.js';

describe('detectImageType', () => {
  describe('when given the bytes of a file', () => {
    it.each<[string, () => Promise<Buffer> | Buffer, DetectedType | undefined]>([
      ['a PNG', () => makeImage({ width: 16, height: 16, format: 'png' }), 'png'],
      ['a JPEG', () => makeImage({ width: 16, height: 16, format: 'jpeg' }), 'jpeg'],
      ['a WebP', () => makeImage({ width: 16, height: 16, format: 'webp' }), 'webp'],
      ['a GIF', () => makeImage({ width: 16, height: 16, format: 'gif' }), 'gif'],
      ['a TIFF', () => makeImage({ width: 16, height: 16, format: 'tiff' }), 'tiff'],
      ['a big-endian TIFF header', () => Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]), 'tiff'],
      ['a BMP', () => bmpImage(16, 16), 'bmp'],
      ['an AVIF made by sharp', () => makeImage({ width: 16, height: 16, format: 'avif' }), 'avif'],
      ['a HEIC brand', () => Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic', 'latin1'), 'heic'],
      ['a PDF', () => Buffer.from('%PDF-1.7\n%âãÏÓ\n', 'latin1'), 'pdf'],
      ['an SVG behind an XML declaration', () => Buffer.from('<?xml version="1.0"?>\n<svg/>'), 'svg'],
      ['a PNG header that declares a huge image', () => pngHeaderDeclaring(30_000, 30_000), 'png'],
      [
        'the first half of a JPEG',
        async () => truncated(await makeImage({ width: 16, height: 16, format: 'jpeg' })),
        'jpeg',
      ],
      ['plain text', () => textFile(), undefined],
      ['text that starts with "BM" but is too short for a BMP header', () => Buffer.from('BMW'), undefined],
      ['an empty file', () => Buffer.alloc(0), undefined],
    ])('reads %s as %s', async (_name, bytes, expected) => {
      expect(detectImageType(await bytes())).toBe(expected);
    });
  });

  it('reads a Uint8Array view from its own offset, not from the start of the underlying buffer', async () => {
    const png = await makeImage({ width: 8, height: 8, format: 'png' });
    const padded = Buffer.concat([Buffer.from('junk'), png]);
    expect(detectImageType(new Uint8Array(padded.buffer, padded.byteOffset + 4, png.length))).toBe('png');
    expect(detectImageType(padded)).toBeUndefined();
  });
});

describe('describeDetected', () => {
  it.each<[DetectedType | undefined, string]>([
    ['tiff', 'a TIFF image'],
    ['bmp', 'a BMP image'],
    [undefined, 'no known image type'],
  ])('describes %s as "%s"', (type, text) => {
    expect(describeDetected(type)).toBe(text);
  });
});
