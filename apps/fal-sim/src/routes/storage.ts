import express, { type Router } from 'express';
import { z } from 'zod';
import type { SimContext } from '../context.js';
import { filePath, lifecycleTtlMs } from '../file-store.js';
import { answerFault, baseUrlOf, requireKey } from '../http-helpers.js';

/** fal-js sends single-part uploads up to 90 MB (fal.md §4.5). */
const MAX_UPLOAD_BYTES = '100mb';

const initiateSchema = z.object({
  content_type: z.string().min(1).optional(),
  file_name: z.string().min(1).optional(),
});

/**
 * The upload handshake `@fal-ai/client` uses (fal.md §4.5) and the CDN serving uploads and
 * outputs. Multipart uploads (over 90 MB) are not simulated.
 */
export function storageRoutes(ctx: SimContext): Router {
  const router = express.Router();

  router.post('/storage/upload/initiate', express.json({ type: () => true }), async (req, res) => {
    if (!requireKey(req, res)) return;
    if (await answerFault(ctx, 'upload', undefined, res)) return;
    const parsed = initiateSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      res
        .status(422)
        .json({ detail: [{ loc: ['body'], msg: 'Invalid upload request', type: 'value_error' }] });
      return;
    }
    const contentType = parsed.data.content_type ?? 'application/octet-stream';
    const fileName = parsed.data.file_name ?? 'upload.bin';
    const token = ctx.files.reserve(contentType, fileName, lifecycleTtlMs(req.get('x-fal-object-lifecycle')));
    const base = baseUrlOf(req, ctx.publicUrl);
    res.json({ upload_url: `${base}/storage/upload/${token}`, file_url: base + filePath(token, fileName) });
  });

  // The upload URL is pre-authorised, like a signed URL on the real CDN: no key needed.
  router.put(
    '/storage/upload/:token',
    express.raw({ type: () => true, limit: MAX_UPLOAD_BYTES }),
    (req, res) => {
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!ctx.files.fill(req.params.token, bytes, req.get('content-type'))) {
        res.status(404).json({ detail: 'Upload URL not found or expired' });
        return;
      }
      ctx.stats.counters.uploads += 1;
      res.status(200).json({ ok: true });
    },
  );

  router.get('/files/:token/:name', async (req, res) => {
    if (await answerFault(ctx, 'cdn', undefined, res)) return;
    const file = ctx.files.get(req.params.token);
    if (!file) {
      res.status(404).json({ detail: 'File not found' });
      return;
    }
    // setHeader, not res.set: express would append a charset to the stored type.
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Length', String(file.bytes.length));
    res.status(200).end(file.bytes);
  });

  return router;
}
