import { FluxqError, JOB_ID_PATTERN } from '@fluxq/core';
import { Router } from 'express';
import { acceptImageJob } from '../accept-job.js';
import type { ApiDeps } from '../deps.js';
import { viewJob } from '../job-view.js';
import { requireJson } from '../require-json.js';

/** Native job API (DESIGN §5): create and read jobs, scoped to the caller's tenant. */
export function jobsRouter(deps: ApiDeps): Router {
  const router = Router();
  const view = { signer: deps.signer, fileUrlTtlS: deps.settings.fileUrlTtlS };

  router.post('/v1/jobs', ...requireJson(deps.settings.maxJsonBodyBytes), async (req, res) => {
    const record = await acceptImageJob(req.body, req.tenant, deps);
    res.status(202).location(`/v1/jobs/${record.id}`).json(viewJob(record, view));
  });

  router.get('/v1/jobs/:id', async (req, res) => {
    const { id } = req.params;
    const record = JOB_ID_PATTERN.test(id) ? await deps.store.get(id) : undefined;
    // Another tenant's job answers exactly like a job that does not exist.
    if (!record || record.tenant !== req.tenant) {
      throw new FluxqError('job_not_found', `no job ${id.slice(0, 64)}`, { param: 'id' });
    }
    res.json(viewJob(record, view));
  });

  return router;
}
