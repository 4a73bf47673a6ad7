/** The forms an input image can take in a request (DESIGN §4), before any bytes are read. */

export type ImageInput =
  /** An `https` (or allow-listed `http`) URL the worker fetches. */
  | { kind: 'url'; url: string }
  /** A `data:` URI; the API decodes it and stores the bytes. */
  | { kind: 'data'; mime: string; base64: string }
  /** A previously uploaded image (`upl_…`). */
  | { kind: 'upload'; id: string };

export const UPLOAD_ID_PATTERN = /^upl_[A-Za-z0-9]{8,64}$/;
const DATA_URI_PATTERN = /^data:([a-z]+\/[a-z0-9.+-]+)?(;[a-z0-9-]+=[^;,]*)*;base64,/i;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why a value is not an image reference, with the error code a client gets for it. */
export interface ImageInputProblem {
  /** `invalid_image_url` for a URL we will not fetch; `invalid_image` for anything else. */
  code: 'invalid_image' | 'invalid_image_url';
  message: string;
}

const notAnImage = (message: string): ImageInputProblem => ({ code: 'invalid_image', message });
const badImageUrl = (message: string): ImageInputProblem => ({ code: 'invalid_image_url', message });

/** Parses one image reference; returns what is wrong with it instead when it is not one. */
export function parseImageInput(value: unknown): ImageInput | ImageInputProblem {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'object' && value !== null
        ? ((value as Record<string, unknown>).image_url ?? (value as Record<string, unknown>).url)
        : undefined;
  if (typeof text !== 'string' || text.length === 0) {
    return notAnImage('each image must be a URL, a data: URI, an upl_ upload id, or {"image_url": "..."}');
  }
  if (text.startsWith('upl_')) {
    return UPLOAD_ID_PATTERN.test(text)
      ? { kind: 'upload', id: text }
      : notAnImage(`"${text.slice(0, 40)}" is not an upload id`);
  }
  if (/^data:/i.test(text)) {
    const header = DATA_URI_PATTERN.exec(text);
    if (!header) return notAnImage('a data: URI image must be base64-encoded (data:image/png;base64,...)');
    const base64 = text.slice(header[0].length).replace(/\s+/g, '');
    if (base64.length === 0 || base64.length % 4 === 1 || !BASE64_BODY.test(base64)) {
      return notAnImage('the data: URI does not hold valid base64');
    }
    return { kind: 'data', mime: (header[1] ?? 'application/octet-stream').toLowerCase(), base64 };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return notAnImage('an image must be an absolute https URL, a data: URI or an upl_ upload id');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return badImageUrl('an image URL must use https');
  if (url.username || url.password) return badImageUrl('an image URL must not carry credentials');
  return { kind: 'url', url: url.toString() };
}
