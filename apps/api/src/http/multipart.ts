import { FluxqError, isFluxqError } from '@fluxq/core';
import type { Request, RequestHandler } from 'express';
import multer from 'multer';

/**
 * `multipart/form-data` for `POST /v1/images/edits`, as OpenAI clients and curl send it:
 * image files in `image` or `image[]`, parameters in text fields. Files are kept in
 * memory under per-file, per-request and count limits; the bytes are not judged here
 * (the normalizer's path sniffs and decodes them), only their amount.
 */

export interface MultipartLimits {
  /** Largest single file, bytes. */
  maxFileBytes: number;
  /** Most files in one request. */
  maxFiles: number;
  /** All files of one request together, bytes. */
  maxTotalBytes: number;
}

/** File fields that carry input images (OpenAI's names). */
export const IMAGE_FILE_FIELDS = new Set(['image', 'image[]']);
/** A text field holds at most this much: a 32,000-character prompt in any script fits. */
export const MAX_FIELD_BYTES = 256 * 1024;
const MAX_FIELDS = 64;
/** Room for text fields and part headers when judging a declared Content-Length. */
const FIELDS_ALLOWANCE_BYTES = 1024 * 1024;

const shown = (name: string | undefined) => (name ?? '').slice(0, 64);

/** OpenAI's `mask` (inpainting) has no FLUX.2 counterpart; refused as a file or a field. */
export const maskNotSupported = () =>
  new FluxqError(
    'unsupported_parameter',
    'mask is not supported by FLUX.2 edit endpoints: describe the change in the prompt instead',
    { param: 'mask' },
  );

/** Only image fields may carry files; `mask` is named for what it is. */
const fileFilter: multer.Options['fileFilter'] = (_req, file, accept) => {
  if (IMAGE_FILE_FIELDS.has(file.fieldname)) return accept(null, true);
  const field = shown(file.fieldname);
  if (field === 'mask' || field === 'mask[]') return accept(maskNotSupported());
  accept(
    new FluxqError(
      'unknown_parameter',
      `unexpected file field "${field}": send images in "image" or "image[]"`,
      {
        param: field,
      },
    ),
  );
};

/** Memory storage that also counts the bytes of all files of a request and stops past `maxTotalBytes`. */
function boundedMemoryStorage(maxTotalBytes: number): multer.StorageEngine {
  const totals = new WeakMap<Request, number>();
  return {
    _handleFile(req, file, done) {
      const chunks: Buffer[] = [];
      let refused = false;
      file.stream.on('data', (chunk: Buffer) => {
        if (refused) return; // keep draining so the parser reaches the end of the part
        const total = (totals.get(req) ?? 0) + chunk.length;
        totals.set(req, total);
        if (total <= maxTotalBytes) {
          chunks.push(chunk);
          return;
        }
        refused = true;
        chunks.length = 0;
        done(
          new FluxqError('payload_too_large', `the image files together exceed ${maxTotalBytes} bytes`, {
            param: 'image',
          }),
        );
      });
      file.stream.on('end', () => {
        if (refused) return;
        const buffer = Buffer.concat(chunks);
        done(null, { buffer, size: buffer.length });
      });
    },
    _removeFile(_req, file, done) {
      (file as { buffer?: Buffer }).buffer = undefined;
      done(null);
    },
  };
}

/** Multer's and busboy's refusals as our 4xx errors. */
export function multipartError(err: unknown, limits: MultipartLimits): FluxqError {
  if (isFluxqError(err)) return err;
  if (err instanceof multer.MulterError) {
    const field = shown(err.field);
    switch (err.code) {
      case 'LIMIT_FILE_SIZE':
        return new FluxqError(
          'payload_too_large',
          `file "${shown((err as { filename?: string }).filename)}" in "${field}" is larger than ${limits.maxFileBytes} bytes`,
          { param: field || 'image' },
        );
      case 'LIMIT_FILE_COUNT':
        return new FluxqError('too_many_images', `at most ${limits.maxFiles} image files are allowed`, {
          param: 'image',
        });
      case 'LIMIT_UNEXPECTED_FILE':
        return new FluxqError('unknown_parameter', `unexpected file field "${field}"`, { param: field });
      case 'LIMIT_FIELD_VALUE':
        return new FluxqError(
          'payload_too_large',
          `field "${field}" is longer than ${MAX_FIELD_BYTES} bytes (send images as files)`,
          { param: field },
        );
      case 'LIMIT_PART_COUNT':
      case 'LIMIT_FIELD_COUNT':
        return new FluxqError('invalid_request', `the form has too many fields (at most ${MAX_FIELDS})`);
      default:
        return new FluxqError('invalid_request', `the multipart body was refused: ${err.message}`, {
          param: field || null,
        });
    }
  }
  const detail = err instanceof Error ? `: ${err.message.slice(0, 200)}` : '';
  return new FluxqError('invalid_request', `the multipart body could not be parsed${detail}`, { cause: err });
}

/**
 * The request body the normalizer takes: text fields as they are (strings; append-field
 * builds `metadata[k]` objects and `x[]` lists), and each image file, in order, as a
 * `data:` URI in `image`, ahead of any image references sent as text.
 */
export function multipartRequestBody(
  fields: Record<string, unknown>,
  files: Express.Multer.File[],
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...fields };
  if (files.length === 0) return body;
  const uris = files.map((file) => {
    if (file.size === 0) {
      throw new FluxqError('invalid_image', `file "${shown(file.originalname)}" is empty`, {
        param: 'image',
      });
    }
    return `data:application/octet-stream;base64,${file.buffer.toString('base64')}`;
  });
  const text = body.image === undefined ? [] : Array.isArray(body.image) ? body.image : [body.image];
  body.image = [...uris, ...text];
  return body;
}

/**
 * Parses a multipart request into `req.body` (see `multipartRequestBody`); errors become
 * our envelope. A declared body far over the limits is refused before it is read.
 */
export function parseMultipartImages(limits: MultipartLimits): RequestHandler {
  const upload = multer({
    storage: boundedMemoryStorage(limits.maxTotalBytes),
    fileFilter,
    limits: {
      fileSize: limits.maxFileBytes,
      files: limits.maxFiles,
      fieldSize: MAX_FIELD_BYTES,
      fields: MAX_FIELDS,
      parts: MAX_FIELDS + limits.maxFiles,
      fieldNameSize: 200,
      fieldNestingDepth: 2,
      fieldArrayIndexLimit: 16,
      headerPairs: 32,
    },
  }).any();
  return (req, res, next) => {
    const declared = Number(req.get('content-length'));
    if (declared > limits.maxTotalBytes + FIELDS_ALLOWANCE_BYTES) {
      // Not worth reading: answer now and drop the connection rather than drain it.
      res.set('Connection', 'close');
      return next(
        new FluxqError('payload_too_large', `the request body is larger than ${limits.maxTotalBytes} bytes`),
      );
    }
    upload(req, res, (err?: unknown) => {
      if (err) return next(multipartError(err, limits));
      const files = (req.files ?? []) as Express.Multer.File[];
      req.files = undefined; // the bytes live on in the body only
      try {
        req.body = multipartRequestBody(req.body as Record<string, unknown>, files);
      } catch (error) {
        return next(error);
      }
      next();
    });
  };
}
