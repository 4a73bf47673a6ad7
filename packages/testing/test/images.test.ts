import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  bmpImage,
  crc32,
  type ImageFormat,
  makeDataUri,
  makeImage,
  pngHeaderDeclaring,
  textFile,
  truncated,
} from '../src/index.js';

describe('makeImage', () => {
  it.each<[ImageFormat, string]>([
    ['png', 'png'],
    ['jpeg', 'jpeg'],
    ['webp', 'webp'],
    ['tiff', 'tiff'],
    ['gif', 'gif'],
    ['avif', 'heif'],
  ])('writes a %s that sharp decodes at the requested size', async (format, sharpFormat) => {
    const image = await makeImage({ width: 96, height: 64, format });
    const metadata = await sharp(image).metadata();
    expect(metadata).toMatchObject({ format: sharpFormat, width: 96, height: 64 });
  });

  it('draws visible structure, deterministic per seed', async () => {
    const [a, again, b] = await Promise.all([
      makeImage({ width: 64, height: 64, format: 'png', seed: 7 }),
      makeImage({ width: 64, height: 64, format: 'png', seed: 7 }),
      makeImage({ width: 64, height: 64, format: 'png', seed: 8 }),
    ]);
    expect(a.equals(again)).toBe(true);
    expect(a.equals(b)).toBe(false);
    const { channels } = await sharp(a).stats();
    expect(channels.every((channel) => channel.stdev > 10)).toBe(true);
  });
});

describe('broken and unusual inputs', () => {
  it('pngHeaderDeclaring reads as a 30000×30000 PNG that sharp refuses by default', async () => {
    const bomb = pngHeaderDeclaring();
    expect(bomb.length).toBeLessThan(200);
    const metadata = await sharp(bomb, { limitInputPixels: false }).metadata();
    expect(metadata).toMatchObject({ format: 'png', width: 30_000, height: 30_000 });
    await expect(sharp(bomb).metadata()).rejects.toThrow(/pixel limit/);
  });

  it('crc32 matches the PNG specification check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('truncated cuts a real image so decoding fails', async () => {
    const png = await makeImage({ width: 64, height: 64, format: 'png' });
    const cut = truncated(png);
    expect(cut.length).toBe(Math.floor(png.length / 2));
    expect(truncated(png, 10).length).toBe(10);
    await expect(sharp(cut).toBuffer()).rejects.toThrow();
  });

  it('bmpImage builds a 24-bit BMP of the given size', () => {
    const bmp = bmpImage(5, 3);
    expect(bmp.toString('latin1', 0, 2)).toBe('BM');
    expect(bmp.readUInt32LE(2)).toBe(bmp.length);
    expect(bmp.readInt32LE(18)).toBe(5);
    expect(bmp.readInt32LE(22)).toBe(3);
    expect(bmp.readUInt16LE(28)).toBe(24);
    expect(bmp.length).toBe(54 + 16 * 3); // rows padded to 4 bytes
  });

  it('makeDataUri and textFile', () => {
    expect(makeDataUri(Buffer.from('hi'), 'text/plain')).toBe('data:text/plain;base64,aGk=');
    expect(textFile().toString()).toMatch(/not an image/);
  });
});
