import { FluxqError } from '@fluxq/core';
import { assertValidKey, StorageKeyError } from '@fluxq/storage';
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';

/**
 * `GET /v1/files/{key}`: serves stored images behind an expiring HMAC signature.
 * The signature binds the key, so it also scopes a file to whoever was handed the URL.
 */
export function filesRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/v1/files/*key', async (req, res) => {
    const segments = (req.params as { key: string[] }).key;
    const key = segments.join('/');
    try {
      assertValidKey(key);
    } catch (err) {
      if (err instanceof StorageKeyError)
        throw new FluxqError('invalid_request', 'invalid file key', { param: 'key' });
      throw err;
    }
    const { expires, sig } = req.query;
    const verdict = deps.signer.verify(
      key,
      typeof expires === 'string' ? expires : '',
      typeof sig === 'string' ? sig : '',
    );
    if (verdict === 'expired')
      throw new FluxqError(
        'invalid_signature',
        'this file URL has expired; fetch the job again for a fresh one',
      );
    if (verdict !== 'ok') throw new FluxqError('invalid_signature', 'this file URL is not validly signed');
    const blob = await deps.storage.createReadStream(key);
    if (!blob) throw new FluxqError('file_not_found', 'no such file');
    res.set({
      'content-type': blob.contentType,
      'content-length': String(blob.bytes),
      'cache-control': 'private, max-age=3600',
      'x-content-type-options': 'nosniff',
    });
    blob.stream.on('error', (err) => res.destroy(err));
    blob.stream.pipe(res);
  });
  return router;
}
