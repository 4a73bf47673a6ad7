import express from 'express';

/**
 * The ceiling of any express API on this machine: `express.json()` and a 202 answer, no work at
 * all behind it. The submit benchmark measures it beside fluxq's `POST /v1/jobs` (same clients,
 * same body), so the ratio to raw BullMQ says how much of it the framework alone leaves.
 */
const app = express();
app.use(express.json({ limit: '1mb' }));
let accepted = 0;
app.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});
app.post('/v1/jobs', (req, res) => {
  accepted++;
  res
    .status(202)
    .json({ id: `job_${accepted}`, object: 'job', status: 'queued', prompt: req.body?.prompt ?? null });
});
const server = app.listen(Number(process.env.BENCH_CEILING_PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
