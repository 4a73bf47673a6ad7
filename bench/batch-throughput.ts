import { Queue } from 'bullmq';
import type { BenchStack } from './harness.js';

/** Requests in the measured batch: the largest one accepted. */
export const BATCH_LINES = 50_000;

export interface BatchAcceptResult {
  /** From the first byte of the request to the 202, ms. */
  acceptMs: number;
  jobsPerSecond: number;
  bytes: number;
}

/** The body of line `i`: a tiny text-to-image request, the same for the API and the baseline. */
const bodyOf = (i: number) => ({ model: 'flux.2-dev-turbo', prompt: `tiny ${i}`, size: '512x512', n: 1 });

/** A JSONL file in OpenAI Batch line format. */
export function batchJsonl(lines = BATCH_LINES): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(
      JSON.stringify({ custom_id: `r-${i}`, method: 'POST', url: '/v1/images/generations', body: bodyOf(i) }),
    );
  }
  return `${out.join('\n')}\n`;
}

/**
 * `POST /v1/batches` with a 50,000-line JSONL file (no worker running): time from the
 * first byte sent to the 202, i.e. parse, validate every line, price, limits, records,
 * `addBulk` in chunks of 1,000.
 */
export async function measureBatchAccept(stack: BenchStack, text = batchJsonl()): Promise<BatchAcceptResult> {
  const form = new FormData();
  form.set('file', new Blob([text], { type: 'application/jsonl' }), 'batch.jsonl');
  // Encode the form first, so the clock starts at the first byte on the wire.
  const request = new Request(`${stack.apiUrl}/v1/batches`, { method: 'POST', body: form });
  const body = new Uint8Array(await request.arrayBuffer());
  const started = performance.now();
  const response = await fetch(`${stack.apiUrl}/v1/batches`, {
    method: 'POST',
    headers: { 'content-type': request.headers.get('content-type')! },
    body,
  });
  const answer = (await response.json()) as { request_counts?: { total: number } };
  const acceptMs = performance.now() - started;
  if (response.status !== 202)
    throw new Error(`batch refused: ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  const lines = answer.request_counts?.total ?? 0;
  return { acceptMs, jobsPerSecond: lines / (acceptMs / 1000), bytes: body.length };
}

/** Raw BullMQ: the same 50,000 payloads with `addBulk` in chunks of 1,000, the floor. */
export async function measureRawAddBulk(redisUrl: string, lines = BATCH_LINES): Promise<BatchAcceptResult> {
  const queue = new Queue('bench-raw-bulk', { connection: { url: redisUrl }, prefix: '{bench}' });
  await queue.waitUntilReady();
  const started = performance.now();
  for (let start = 0; start < lines; start += 1_000) {
    const jobs = [];
    for (let i = start; i < Math.min(lines, start + 1_000); i++) {
      jobs.push({
        name: 'image',
        data: bodyOf(i),
        opts: { attempts: 5, backoff: { type: 'exponential' as const, delay: 1000 }, priority: 10 },
      });
    }
    await queue.addBulk(jobs);
  }
  const acceptMs = performance.now() - started;
  await queue.obliterate({ force: true });
  await queue.close();
  return { acceptMs, jobsPerSecond: lines / (acceptMs / 1000), bytes: 0 };
}
