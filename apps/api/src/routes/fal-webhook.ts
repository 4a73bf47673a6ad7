import { type ErrorEnvelope, FluxqError } from '@fluxq/core';
import { FAL_JWKS_UNAVAILABLE, FAL_WEBHOOK_HEADERS } from '@fluxq/fal';
import express, { type Response, Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { refuseDeclaredOver } from '../http/require-json.js';

/** Where fal posts completion webhooks: the URL workers pass as `?fal_webhook=` is `<api>/fal/webhook`. */
export const FAL_WEBHOOK_PATH = '/fal/webhook';
export const DEFAULT_FAL_WEBHOOK_MAX_BODY_BYTES = 20 * 1024 * 1024;

/** Our error envelope for statuses whose code `FluxqError` maps elsewhere (or not at all). */
function sendError(res: Response, status: 401 | 503, code: string, message: string): void {
  const envelope: ErrorEnvelope = {
    error: {
      type: status === 401 ? 'authentication_error' : 'api_error',
      code,
      message,
      param: null,
    },
  };
  res.status(status).json(envelope);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `POST /fal/webhook`: fal's completion webhook (fal.md §3). Authenticated by fal's ED25519
 * signature over the raw body, not by an API key. A verified first delivery wakes the
 * workers waiting on that fal request (`publishFalCompletion`); fal's redeliveries of it are
 * acknowledged and dropped. The worker still reads the outcome from fal: the webhook only
 * saves it a polling interval.
 *
 * Answers: 200 `{received: true}` (first delivery) or `{received: true, duplicate: true}`;
 * 401 `invalid_signature` (nothing else happens); 400 for a signed body that is not JSON,
 * not an object, names another request than its signature, or has an unknown status;
 * 503 when fal's JWKS or Redis cannot be reached (fal retries the delivery).
 */
export function falWebhookRouter(deps: ApiDeps): Router {
  const router = Router();
  const limit = deps.settings.falWebhookMaxBodyBytes ?? DEFAULT_FAL_WEBHOOK_MAX_BODY_BYTES;
  const raw = express.raw({
    // fal sends application/json, but the signature covers the bytes whatever the type says.
    type: () => true,
    limit,
    inflate: false,
  });

  // A declared body over the limit is refused before it is read (not drained first).
  router.post(FAL_WEBHOOK_PATH, refuseDeclaredOver(limit), raw, async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = await deps.falWebhookVerifier.verify(req.headers, body);
    if (!verdict.ok) {
      // The header is unverified input: logged short, and the body never.
      const claimedId = req.get(FAL_WEBHOOK_HEADERS.requestId)?.slice(0, 100);
      if (verdict.reason === FAL_JWKS_UNAVAILABLE) {
        req.log.error({ requestId: claimedId }, 'fal webhook not verified: fal JWKS unavailable');
        res.set('Retry-After', '60');
        sendError(
          res,
          503,
          'jwks_unavailable',
          "fal's webhook signing keys could not be fetched; retry later",
        );
        return;
      }
      req.log.warn({ reason: verdict.reason, requestId: claimedId, ip: req.ip }, 'fal webhook refused');
      sendError(res, 401, 'invalid_signature', `invalid fal webhook signature: ${verdict.reason}`);
      return;
    }

    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      throw new FluxqError('invalid_json', 'the webhook body is not valid JSON');
    }
    if (!isPlainObject(payload))
      throw new FluxqError('invalid_request', 'the webhook body must be a JSON object');
    if (payload.request_id !== verdict.requestId) {
      throw new FluxqError(
        'invalid_parameter',
        `request_id does not match the signed ${FAL_WEBHOOK_HEADERS.requestId} header`,
        { param: 'request_id' },
      );
    }
    const status = payload.status;
    if (status !== 'OK' && status !== 'ERROR') {
      throw new FluxqError('invalid_parameter', 'status must be OK or ERROR', { param: 'status' });
    }

    const requestId = verdict.requestId;
    if (!(await deps.falWebhooks.claim(requestId))) {
      req.log.debug({ requestId }, 'fal webhook redelivered; already handled');
      res.json({ received: true, duplicate: true });
      return;
    }
    try {
      await deps.falWebhooks.publish({ requestId, status });
    } catch (err) {
      // Unclaimed again, so fal's retry of this delivery is handled rather than dropped.
      await deps.falWebhooks.release(requestId).catch(() => {});
      throw err;
    }
    req.log.debug({ requestId, status }, 'fal webhook received');
    res.json({ received: true });
  });

  return router;
}
