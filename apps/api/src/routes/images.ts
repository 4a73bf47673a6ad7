import { FluxqError, isTerminalStatus, type Operation, viewJob } from '@fluxq/core';
import { type RequestHandler, type Response, Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { maskNotSupported, parseMultipartImages } from '../http/multipart.js';
import { parsePrefer, preferenceApplied, waitSeconds } from '../http/prefer.js';
import { jsonBody, requireJson } from '../http/require-json.js';
import { acceptImageJob, quoteImageJob } from '../services/accept-job.js';
import { fingerprintJson, IDEMPOTENT_REPLAYED_HEADER, withIdempotency } from '../services/idempotency.js';
import { failedJobError, type OpenAiViewContext, toImagesResponse } from '../services/openai-view.js';
import { isDryRun } from './jobs.js';

/** Longest a synchronous call waits for its job unless `SYNC_WAIT_MAX_S` says otherwise. */
export const DEFAULT_SYNC_WAIT_MAX_S = 300;
export const DEFAULT_MAX_MULTIPART_TOTAL_BYTES = 40 * 1024 * 1024;
/** Names the job behind every answer given after it was accepted (200, 202 and errors). */
export const JOB_ID_HEADER = 'Fluxq-Job-Id';

const TRUE_STRINGS = /^\s*(true|1|on|yes)\s*$/i;

function imageCount(value: unknown): number {
  if (value === undefined || value === null) return 0;
  return Array.isArray(value) ? value.length : 1;
}

/** OpenAI-specific checks before the one normalizer sees the body. */
function openAiRequest(raw: unknown, operation: Operation): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FluxqError('invalid_request', 'the request body must be a JSON object');
  }
  const { stream, ...body } = raw as Record<string, unknown>;
  if (body.mask !== undefined) throw maskNotSupported();
  if (stream === true || (typeof stream === 'string' && TRUE_STRINGS.test(stream))) {
    throw new FluxqError(
      'unsupported_parameter',
      'stream is not supported: the call answers once the images are ready (or send Prefer: respond-async)',
      { param: 'stream' },
    );
  }
  const images = imageCount(body.image) + imageCount(body.images);
  if (operation === 'generate' && images > 0) {
    throw new FluxqError('invalid_parameter', 'generations take no input images; use /v1/images/edits', {
      param: 'image',
    });
  }
  if (operation === 'edit' && images === 0) {
    throw new FluxqError(
      'missing_parameter',
      'an edit needs at least one input image: a multipart file in "image" (or "image[]"), or JSON "images"',
      { param: 'image' },
    );
  }
  return body;
}

/** Edits take multipart (files) or JSON (references); anything else is a 415 saying so. */
function editsBody(deps: ApiDeps): RequestHandler {
  const json = jsonBody(deps.settings.maxJsonBodyBytes);
  const multipart = parseMultipartImages({
    maxFileBytes: deps.settings.maxUploadFileBytes,
    maxFiles: deps.settings.maxUploadFiles ?? 4,
    maxTotalBytes: deps.settings.maxMultipartTotalBytes ?? DEFAULT_MAX_MULTIPART_TOTAL_BYTES,
  });
  return (req, res, next) => {
    if (req.is('multipart/form-data')) return multipart(req, res, next);
    if (req.is('application/json')) return json(req, res, next);
    const got = (req.get('content-type') ?? 'none').slice(0, 100);
    next(
      new FluxqError(
        'unsupported_content_type',
        `send multipart/form-data (image files) or application/json (got ${got})`,
      ),
    );
  };
}

/**
 * Waits up to `waitS` for the job to end; true when the client hung up meanwhile (the
 * job runs on, nobody is left to answer).
 */
async function clientHungUpWhileWaiting(deps: ApiDeps, id: string, waitS: number, res: Response) {
  if (waitS <= 0) return false;
  const hangUp = new AbortController();
  const onClose = () => hangUp.abort();
  res.once('close', onClose);
  try {
    await deps.events.waitForTerminal(id, waitS * 1_000, hangUp.signal);
    return hangUp.signal.aborted;
  } finally {
    res.off('close', onClose);
  }
}

/**
 * `POST /v1/images/generations` and `POST /v1/images/edits` (DESIGN §5): OpenAI's Images
 * API over the job system. The request is accepted as an `interactive` job; the call
 * waits for it and answers 200 in OpenAI's shape, the job's error in the envelope, or
 * 202 with the job when `Prefer` asks for that or the wait runs out.
 */
export function imagesRouter(deps: ApiDeps): Router {
  const router = Router();
  const ctx: OpenAiViewContext = {
    fileUrls: deps.fileUrls,
    fileUrlTtlS: deps.settings.fileUrlTtlS,
    storage: deps.storage,
  };
  const maxWaitS = deps.settings.syncWaitMaxS ?? DEFAULT_SYNC_WAIT_MAX_S;

  const handle =
    (operation: Operation): RequestHandler =>
    async (req, res) => {
      const body = openAiRequest(req.body, operation);
      if (isDryRun(req.query.dry_run)) {
        res.json(await quoteImageJob(body, req.tenant, deps, { priority: 'interactive' }));
        return;
      }
      const preferences = parsePrefer(req.headers.prefer);
      const waitS = waitSeconds(preferences, maxWaitS);
      const { record: accepted, replayed } = await withIdempotency(
        req,
        deps,
        // Multipart files are data: URIs in `body` by now, so one fingerprint covers both forms.
        () => fingerprintJson(`POST ${req.path}`, body),
        () => acceptImageJob(body, req.tenant, deps, { priority: 'interactive' }),
      );
      if (replayed) res.set(IDEMPOTENT_REPLAYED_HEADER, 'true');
      res.set(JOB_ID_HEADER, accepted.id);
      const applied = preferenceApplied(preferences, waitS);
      if (applied) res.set('Preference-Applied', applied);

      if (await clientHungUpWhileWaiting(deps, accepted.id, waitS, res)) return;
      // Read again after a wait: the job may have finished, or at least started.
      const record = waitS > 0 ? ((await deps.store.get(accepted.id)) ?? accepted) : accepted;
      if (!isTerminalStatus(record.status)) {
        res
          .status(202)
          .location(`/v1/jobs/${accepted.id}`)
          .json(await viewJob(record, ctx));
        return;
      }
      if (record.status === 'succeeded') {
        res.json(await toImagesResponse(record, ctx));
        return;
      }
      // The worker already retried; a client retry would only pay for the same failure again.
      res.set('x-should-retry', 'false');
      throw failedJobError(record);
    };

  router.post('/v1/images/generations', ...requireJson(deps.settings.maxJsonBodyBytes), handle('generate'));
  router.post('/v1/images/edits', editsBody(deps), handle('edit'));
  return router;
}
