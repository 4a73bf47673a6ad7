import type { BinaryImage } from './types.js';

/** A value sent as a file rather than JSON: `Blob`/`File`, `Buffer`/`Uint8Array` or `ArrayBuffer`. */
export function isBinary(value: unknown): value is BinaryImage {
  return (
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && value instanceof Blob)
  );
}

/** The type the first bytes say (PNG, JPEG, WebP), so a file part is labelled sensibly; the API sniffs anyway. */
function sniff(bytes: Uint8Array): { type: string; ext: string } {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return { type: 'image/png', ext: 'png' };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { type: 'image/jpeg', ext: 'jpg' };
  const riff = new TextDecoder().decode(bytes.subarray(0, 4));
  const webp = new TextDecoder().decode(bytes.subarray(8, 12));
  if (riff === 'RIFF' && webp === 'WEBP') return { type: 'image/webp', ext: 'webp' };
  return { type: 'application/octet-stream', ext: 'bin' };
}

export interface FilePart {
  blob: Blob;
  filename: string;
}

/** A binary value as a multipart file part, named `filename` or after its type. */
export function toFilePart(
  value: BinaryImage,
  options: { filename?: string; contentType?: string; fallbackName: string },
): FilePart {
  if (value instanceof Blob) {
    const named = (value as Blob & { name?: unknown }).name;
    const filename = options.filename ?? (typeof named === 'string' && named ? named : options.fallbackName);
    const blob =
      options.contentType && options.contentType !== value.type
        ? new Blob([value], { type: options.contentType })
        : value;
    return { blob, filename };
  }
  const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
  const sniffed = sniff(bytes);
  // Copied into a plain ArrayBuffer: a Buffer may be a view into a larger shared pool.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return {
    blob: new Blob([copy], { type: options.contentType ?? sniffed.type }),
    filename: options.filename ?? `${options.fallbackName}.${sniffed.ext}`,
  };
}

/** A parameter as a form field: strings as they are, numbers and booleans as text, objects as `name[key]`. */
export function appendField(form: FormData, name: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) appendField(form, `${name}[]`, item);
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) appendField(form, `${name}[${key}]`, item);
  } else {
    form.append(name, String(value));
  }
}
