import { deflateSync } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A syntactically valid PNG (signature, IHDR with a correct CRC, a tiny IDAT, IEND) that
 * declares `width`×`height` pixels of 8-bit RGB but carries almost no data: the shape of a
 * decompression bomb, for checking that inputs are refused by their declared size.
 */
export function pngHeaderDeclaring(width = 30_000, height = 30_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: truecolour (RGB)
  ihdr.writeUInt8(0, 10); // compression: deflate
  ihdr.writeUInt8(0, 11); // filter method
  ihdr.writeUInt8(0, 12); // no interlace
  // The start of the first scanline only: filter byte + a few black pixels.
  const idat = deflateSync(Buffer.alloc(1 + 3 * Math.min(width, 64)));
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND')]);
}

function pngChunk(type: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG (and zlib) define it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A valid uncompressed 24-bit BMP (a gradient), built by hand: a real image in a format
 * the API does not accept.
 */
export function bmpImage(width: number, height: number): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const pixelBytes = rowBytes * height;
  const file = Buffer.alloc(54 + pixelBytes);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10); // offset of the pixel array
  file.writeUInt32LE(40, 14); // BITMAPINFOHEADER size
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22); // positive: rows stored bottom-up
  file.writeUInt16LE(1, 26); // planes
  file.writeUInt16LE(24, 28); // bits per pixel
  file.writeUInt32LE(0, 30); // BI_RGB, no compression
  file.writeUInt32LE(pixelBytes, 34);
  file.writeInt32LE(2835, 38); // 72 dpi
  file.writeInt32LE(2835, 42);
  for (let row = 0; row < height; row++) {
    const y = height - 1 - row;
    for (let x = 0; x < width; x++) {
      const i = 54 + row * rowBytes + x * 3;
      file[i] = Math.floor((255 * x) / Math.max(1, width - 1)); // blue
      file[i + 1] = Math.floor((255 * y) / Math.max(1, height - 1)); // green
      file[i + 2] = 128; // red
    }
  }
  return file;
}
