import { FluxqError, newId } from '@fluxq/core';
import { prepareInputImage } from '@fluxq/images';
import { uploadKey } from '@fluxq/storage';
import type { UploadRecord } from '@fluxq/store';
import { type RequestHandler, Router } from 'express';
import multer from 'multer';
import type { ApiDeps } from '../deps.js';
import { refuseDeclaredOver } from '../require-json.js';
import { findUpload, viewUpload } from '../upload-view.js';

/** The multipart field that carries the file, as in OpenAI's file uploads. */
export const UPLOAD_FILE_FIELD = 'file';

/** Multer's refusals as our 4xx errors; anything else from the parser is a malformed body. */
function multipartError(err: unknown, maxFileBytes: number): FluxqError {
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') {
      return new FluxqError('payload_too_large', `the file is larger than ${maxFileBytes} bytes`, {
        param: UPLOAD_FILE_FIELD,
      });
    }
    if (err.code === 'LIMIT_UNEXPECTED_FILE' || err.code === 'LIMIT_FILE_COUNT') {
      return new FluxqError(
        'invalid_request',
        `send exactly one file, in the multipart field "${UPLOAD_FILE_FIELD}"`,
        { param: UPLOAD_FILE_FIELD },
      );
    }
    return new FluxqError('invalid_request', `the multipart body was refused: ${err.message}`);
  }
  return new FluxqError('invalid_request', 'the multipart body could not be parsed', { cause: err });
}

/** Parses a `multipart/form-data` body with one file (kept in memory, size-capped); 415 otherwise. */
function parseOneFile(maxFileBytes: number): RequestHandler {
  const single = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxFileBytes, files: 1, fields: 16, parts: 32 },
  }).single(UPLOAD_FILE_FIELD);
  // Room for the part headers and a few small fields next to the file.
  const declared = refuseDeclaredOver(maxFileBytes + 64 * 1024);
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      const got = req.get('content-type') ?? 'none';
      return next(
        new FluxqError(
          'unsupported_content_type',
          `send Content-Type: multipart/form-data with a "${UPLOAD_FILE_FIELD}" field (got ${got.slice(0, 100)})`,
        ),
      );
    }
    // A declared body far over the limit is refused before it is read, not drained.
    declared(req, res, (tooLarge?: unknown) => {
      if (tooLarge) return next(tooLarge);
      single(req, res, (err?: unknown) => next(err ? multipartError(err, maxFileBytes) : undefined));
    });
  };
}

/**
 * `POST /v1/uploads` and `GET /v1/uploads/{id}`: a reference image checked and stored
 * once (DESIGN §5), then named by its `upl_…` id in any number of requests until it expires.
 */
export function uploadsRouter(deps: ApiDeps): Router {
  const router = Router();

  router.post('/v1/uploads', parseOneFile(deps.settings.maxUploadFileBytes), async (req, res) => {
    const file = req.file;
    if (!file) {
      throw new FluxqError(
        'missing_parameter',
        `send the image as a multipart file in the field "${UPLOAD_FILE_FIELD}"`,
        { param: UPLOAD_FILE_FIELD },
      );
    }
    const prepared = await prepareInputImage(file.buffer, deps.settings.inputLimits, UPLOAD_FILE_FIELD);
    const nowMs = deps.now();
    const id = newId('upl', nowMs);
    const key = uploadKey(req.tenant, id, prepared.format === 'jpeg' ? 'jpg' : prepared.format);
    await deps.storage.put(key, prepared.bytes, { contentType: prepared.contentType });
    const createdAt = Math.floor(nowMs / 1000);
    const record: UploadRecord = {
      id,
      tenant: req.tenant,
      key,
      width: prepared.width,
      height: prepared.height,
      content_type: prepared.contentType,
      bytes: prepared.bytes.length,
      created_at: createdAt,
      expires_at: createdAt + deps.settings.uploadTtlS,
    };
    try {
      await deps.records.uploads.save(record, deps.settings.uploadTtlS);
    } catch (err) {
      // Not recorded means not uploaded: no file nobody can name.
      await deps.storage.delete(key).catch(() => false);
      throw err;
    }
    res.status(200).json(viewUpload(record));
  });

  router.get('/v1/uploads/:id', async (req, res) => {
    const { id } = req.params;
    const record = await findUpload(deps, id, req.tenant);
    if (!record) {
      throw new FluxqError('upload_not_found', `no upload ${id.slice(0, 64)} (it may have expired)`, {
        param: 'id',
      });
    }
    res.json(viewUpload(record));
  });

  return router;
}
