import { once } from 'node:events';
import { FluxqError, isTerminalStatus, viewJob } from '@fluxq/core';
import { BATCH_ID_PATTERN, type BatchRecord, viewBatch } from '@fluxq/store';
import { type RequestHandler, Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { jsonBody, smallBody } from '../http/require-json.js';
import { acceptBatch } from '../services/accept-batch.js';
import { requestBatchCancel } from '../services/batch-cancel.js';
import { type ParsedBatch, parseJsonBatch, parseMultipartBatch } from '../services/batch-input.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../services/job-list.js';
import { batchEstimatedCompletedAt } from '../services/queue-place.js';

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024;
/** Jobs read per round trip while streaming results. */
const RESULTS_CHUNK = 500;

function invalid(param: string, message: string): never {
  throw new FluxqError('invalid_parameter', message, { param });
}

/** `limit` and `after` of `GET /v1/batches`. */
function parseListQuery(query: Record<string, unknown>) {
  let limit = DEFAULT_PAGE_SIZE;
  const rawLimit = query.limit;
  if (rawLimit !== undefined) {
    if (
      typeof rawLimit !== 'string' ||
      !/^\d{1,3}$/.test(rawLimit) ||
      +rawLimit < 1 ||
      +rawLimit > MAX_PAGE_SIZE
    )
      invalid('limit', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    limit = Number(rawLimit);
  }
  const after = query.after;
  if (after !== undefined && (typeof after !== 'string' || !BATCH_ID_PATTERN.test(after)))
    invalid('after', 'after must be a batch id (the next_cursor of a page)');
  return { limit, after: after as string | undefined };
}

/**
 * Batches (DESIGN §5): `POST /v1/batches` (JSON `requests` or a multipart JSONL `file`),
 * `GET /v1/batches`, `GET /v1/batches/{id}`, `GET /v1/batches/{id}/results` (JSONL) and
 * `POST /v1/batches/{id}/cancel`, scoped to the caller's tenant.
 */
export function batchesRouter(deps: ApiDeps): Router {
  const router = Router();
  const view = { fileUrls: deps.fileUrls, fileUrlTtlS: deps.settings.fileUrlTtlS };
  const maxLineBytes = deps.settings.maxBatchLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const json = jsonBody(deps.settings.maxJsonBodyBytes);
  const multipart = parseMultipartBatch({
    maxLineBytes,
    maxFileBytes: deps.settings.maxBatchFileBytes ?? DEFAULT_MAX_FILE_BYTES,
  });

  /** The caller's batch; another tenant's answers exactly like one that does not exist. */
  async function tenantBatch(id: string, tenant: string): Promise<BatchRecord> {
    const batch = BATCH_ID_PATTERN.test(id) ? await deps.batches.get(id) : undefined;
    if (!batch || batch.tenant !== tenant) {
      throw new FluxqError('batch_not_found', `no batch ${id.slice(0, 64)}`, { param: 'id' });
    }
    return batch;
  }

  const body: RequestHandler = (req, res, next) => {
    if (req.is('multipart/form-data')) {
      res.locals.batchForm = 'jsonl';
      return multipart(req, res, next);
    }
    if (req.is('application/json')) return json(req, res, next);
    const got = (req.get('content-type') ?? 'none').slice(0, 100);
    next(
      new FluxqError(
        'unsupported_content_type',
        `send application/json ({requests: [...]}) or multipart/form-data with a JSONL "file" (got ${got})`,
      ),
    );
  };

  router.post('/v1/batches', body, async (req, res) => {
    const parsed: ParsedBatch =
      res.locals.batchForm === 'jsonl' ? (req.body as ParsedBatch) : parseJsonBatch(req.body, maxLineBytes);
    const batch = await acceptBatch(parsed, req.tenant, deps);
    res.status(202).location(`/v1/batches/${batch.id}`).json(viewBatch(batch));
  });

  router.get('/v1/batches', async (req, res) => {
    const { limit, after } = parseListQuery(req.query);
    const ids = await deps.batches.listIds(req.tenant, after, limit + 1);
    const batches = (await deps.batches.getMany(ids.slice(0, limit))).filter(
      (batch): batch is BatchRecord => batch !== undefined && batch.tenant === req.tenant,
    );
    const hasMore = ids.length > limit;
    res.json({
      object: 'list',
      data: batches.map(viewBatch),
      first_id: batches[0]?.id ?? null,
      last_id: batches.at(-1)?.id ?? null,
      has_more: hasMore,
      next_cursor: hasMore ? (ids[limit - 1] ?? null) : null,
    });
  });

  router.get('/v1/batches/:id', async (req, res) => {
    const batch = await tenantBatch(req.params.id, req.tenant);
    res.json(viewBatch(batch, await batchEstimatedCompletedAt(batch, deps)));
  });

  // One JSONL line per finished request, in line order, read and written in chunks.
  router.get('/v1/batches/:id/results', async (req, res) => {
    const batch = await tenantBatch(req.params.id, req.tenant);
    res.status(200).type('application/x-ndjson');
    for (let start = 0; start < batch.total; start += RESULTS_CHUNK) {
      if (res.destroyed) return;
      const lines = await deps.batches.lines(batch.id, start, RESULTS_CHUNK);
      if (lines.length === 0) break;
      const records = await deps.store.getMany(lines.map((line) => line.jobId));
      let text = '';
      for (const [index, line] of lines.entries()) {
        const record = records[index];
        if (!record || record.tenant !== req.tenant || !isTerminalStatus(record.status)) continue;
        const job = await viewJob(record, view);
        text += `${JSON.stringify({
          custom_id: line.customId,
          job_id: record.id,
          status: record.status,
          output: job.output,
          error: job.error,
        })}\n`;
      }
      if (text.length > 0 && !res.write(text)) await once(res, 'drain');
    }
    res.end();
  });

  router.post('/v1/batches/:id/cancel', smallBody<{ id: string }>(), async (req, res) => {
    const batch = await tenantBatch(req.params.id, req.tenant);
    res.json(viewBatch(await requestBatchCancel(batch, deps)));
  });

  return router;
}
