import { FluxqError, JOB_ID_PATTERN, type JobRecord, viewJob } from '@fluxq/core';
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { requireJson, smallBody } from '../http/require-json.js';
import { streamJobEvents } from '../http/sse.js';
import { acceptImageJob, quoteImageJob } from '../services/accept-job.js';
import { fingerprintJson, IDEMPOTENT_REPLAYED_HEADER, withIdempotency } from '../services/idempotency.js';
import { listJobs, parseListQuery } from '../services/job-list.js';
import { placeOf, placesOf } from '../services/queue-place.js';

/** `?dry_run=true` quotes instead of creating; absent or `false` creates. */
export function isDryRun(value: unknown): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new FluxqError('invalid_parameter', 'dry_run must be true or false', { param: 'dry_run' });
}

/** Native job API (DESIGN §5): create, quote, list, read, cancel and follow jobs, scoped to the caller's tenant. */
export function jobsRouter(deps: ApiDeps): Router {
  const router = Router();
  const view = { fileUrls: deps.fileUrls, fileUrlTtlS: deps.settings.fileUrlTtlS };

  /** The caller's job `id`; another tenant's job answers exactly like a job that does not exist. */
  async function tenantJob(id: string, tenant: string): Promise<JobRecord> {
    const record = JOB_ID_PATTERN.test(id) ? await deps.store.get(id) : undefined;
    if (!record || record.tenant !== tenant) {
      throw new FluxqError('job_not_found', `no job ${id.slice(0, 64)}`, { param: 'id' });
    }
    return record;
  }

  router.post('/v1/jobs', ...requireJson(deps.settings.maxJsonBodyBytes), async (req, res) => {
    // A quote creates nothing, so it needs (and uses) no Idempotency-Key.
    if (isDryRun(req.query.dry_run)) {
      res.json(await quoteImageJob(req.body, req.tenant, deps));
      return;
    }
    const { record, replayed } = await withIdempotency(
      req,
      deps,
      () => fingerprintJson('POST /v1/jobs', req.body),
      () => acceptImageJob(req.body, req.tenant, deps),
    );
    if (replayed) res.set(IDEMPOTENT_REPLAYED_HEADER, 'true');
    res
      .status(202)
      .location(`/v1/jobs/${record.id}`)
      .json(await viewJob(record, view, await placeOf(record, deps)));
  });

  router.get('/v1/jobs', async (req, res) => {
    const query = parseListQuery(req.query);
    const page = await listJobs(deps, req.tenant, query);
    // Queued jobs show their place in line as GET /v1/jobs/{id} does: one script round trip a page.
    const places = await placesOf(page.records, deps);
    res.json({
      object: 'list',
      data: await Promise.all(page.records.map((record, index) => viewJob(record, view, places[index]))),
      first_id: page.records[0]?.id ?? null,
      last_id: page.records.at(-1)?.id ?? null,
      has_more: page.hasMore,
      next_cursor: page.nextCursor,
    });
  });

  router.get('/v1/jobs/:id', async (req, res) => {
    const record = await tenantJob(req.params.id, req.tenant);
    res.json(await viewJob(record, view, await placeOf(record, deps)));
  });

  // Cancel takes no body: a small one is read and ignored, a big one refused.
  router.post('/v1/jobs/:id/cancel', smallBody<{ id: string }>(), async (req, res) => {
    const record = await deps.lifecycle.cancel(await tenantJob(req.params.id, req.tenant));
    res.json(await viewJob(record, view));
  });

  router.get('/v1/jobs/:id/events', async (req, res) => {
    const record = await tenantJob(req.params.id, req.tenant);
    streamJobEvents(req, res, record.id, deps, view);
  });

  return router;
}
