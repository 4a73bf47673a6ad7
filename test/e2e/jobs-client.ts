import type { AttemptLogEntry } from '@fluxq/sdk';
import { waitFor } from '@fluxq/testing';
import sharp from 'sharp';

/** The parts of a job object the end-to-end tests read. */
export interface Job {
  id: string;
  status: string;
  attempts: number;
  operation: string;
  input: { width: number | null; height: number | null };
  output: {
    images: Array<{ url: string; width: number; height: number; content_type: string; bytes: number }>;
    seed: number | null;
  } | null;
  error: { code: string; message: string } | null;
  cost: { megapixels: number; usd: number };
  timings: {
    queue_ms: number | null;
    provider_ms: number | null;
    total_ms: number | null;
    attempts_ms: number | null;
    retry_wait_ms: number | null;
  };
  attempt_log: AttemptLogEntry[];
}

/** `headers` go out with the request (e.g. `authorization` when the API has keys). */
export async function submitJob(
  apiUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Job> {
  const response = await fetch(`${apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const job = (await response.json()) as Job;
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${JSON.stringify(job)}`);
  return job;
}

export async function getJob(apiUrl: string, id: string, headers: Record<string, string> = {}): Promise<Job> {
  return (await (await fetch(`${apiUrl}/v1/jobs/${id}`, { headers })).json()) as Job;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** Waits until the job reaches a terminal status (observed through the API). */
export function waitForTerminal(
  apiUrl: string,
  id: string,
  timeoutMs = 30_000,
  headers: Record<string, string> = {},
): Promise<Job> {
  return waitFor(
    async () => {
      const job = await getJob(apiUrl, id, headers);
      return TERMINAL.has(job.status) ? job : undefined;
    },
    { timeoutMs, intervalMs: 50, message: `job ${id} to finish` },
  );
}

/** Downloads an output URL (expecting 200) and reads the image back with sharp. */
export async function downloadImage(url: string) {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`download answered ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    bytes,
    contentType: response.headers.get('content-type'),
    metadata: await sharp(bytes).metadata(),
  };
}
