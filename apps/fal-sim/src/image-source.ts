import sharp from 'sharp';
import { tokenFromFileUrl } from './file-store.js';

/** An `image_urls` entry that could not be read or decoded; the request ends in a 422. */
export class InputImageError extends Error {
  override readonly name = 'InputImageError';
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ImageSourceDeps {
  /** Reads a file from the sim's own CDN by token, so edits of uploads need no HTTP round trip. */
  readLocal(token: string): Buffer | undefined;
  fetch: typeof fetch;
  /** Largest input accepted, bytes. @defaultValue 50 MiB */
  maxBytes?: number;
  /** Time allowed to download one input, ms. @defaultValue 15_000 */
  timeoutMs?: number;
}

/** Loads and checks `image_urls`: sim CDN URLs, `data:` URIs and other http(s) URLs. */
export type ImageSource = (urls: readonly string[]) => Promise<Buffer[]>;

export function createImageSource(deps: ImageSourceDeps): ImageSource {
  const maxBytes = deps.maxBytes ?? 50 * 1024 * 1024;
  const timeoutMs = deps.timeoutMs ?? 15_000;

  async function load(url: string, index: number): Promise<Buffer> {
    if (url.startsWith('data:')) return decodeDataUri(url, index);
    const token = tokenFromFileUrl(url);
    const local = token === undefined ? undefined : deps.readLocal(token);
    if (local) return local;
    if (!/^https?:\/\//i.test(url))
      throw new InputImageError(index, 'Image URL must be http(s) or a data URI');
    let response: Response;
    try {
      response = await deps.fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new InputImageError(index, `Could not download the image: ${(error as Error).message}`);
    }
    if (!response.ok)
      throw new InputImageError(index, `Could not download the image: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > maxBytes) throw new InputImageError(index, 'Image is too large');
    return bytes;
  }

  return async (urls) => {
    const images = await Promise.all(urls.map((url, index) => load(url, index)));
    await Promise.all(images.map((bytes, index) => assertDecodable(bytes, index)));
    return images;
  };
}

function decodeDataUri(uri: string, index: number): Buffer {
  const comma = uri.indexOf(',');
  if (comma < 0) throw new InputImageError(index, 'Malformed data URI');
  const meta = uri.slice(5, comma);
  const payload = uri.slice(comma + 1);
  return meta.endsWith(';base64')
    ? Buffer.from(payload, 'base64')
    : Buffer.from(decodeURIComponent(payload), 'utf8');
}

async function assertDecodable(bytes: Buffer, index: number): Promise<void> {
  try {
    // A header can parse while the pixels are truncated, so decode for real (shrunk, to stay cheap).
    await sharp(bytes).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
  } catch {
    throw new InputImageError(index, 'Could not decode the image');
  }
}
