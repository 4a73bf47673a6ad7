import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { PromScrape, waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const run = promisify(execFile);

/** A GET on a connection of its own (no keep-alive), so the cluster may hand it to any process. */
function getFresh(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // A connection handed to a process as it dies may never be answered: give up, the caller retries.
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer from ${url} in 5 s`)));
    req.end();
  });
}

/** The API processes under the cluster's primary (its other children, such as tsx's esbuild, aside). */
async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-P', String(pid), '-f', 'apps/api/']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The API as several processes on one port (API_PROCESSES=2): connections spread over them,
 * a file URL one signed verifies at the other without FILES_SIGNING_SECRET, `/metrics` counts
 * every process's requests, a process that dies is replaced, and SIGTERM stops them all.
 */
describe('API_PROCESSES', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ apiEnv: { API_PROCESSES: '2', FILES_SIGNING_SECRET: undefined } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('runs two API processes under one primary', async () => {
    await waitFor(async () => (await childrenOf(stack.api.pid)).length === 2, {
      // The second may still be loading on a busy machine when the first already answers.
      timeoutMs: 60_000,
      message: 'two API processes',
    });
  });

  it('serves jobs whose file URLs verify at any process, and /metrics counts every process’s answers', async () => {
    const jobs: Job[] = [];
    for (let i = 0; i < 4; i++) {
      const submitted = await submitJob(stack.apiUrl, { prompt: `cluster ${i}`, size: '512x512' });
      jobs.push(await waitForTerminal(stack.apiUrl, submitted.id));
    }
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    // Each URL read on fresh connections several times: the cluster hands them round to both
    // processes, and a URL signed with one process's own random secret would fail at the other.
    for (const job of jobs) {
      const url = (job.output as { images: { url: string }[] }).images[0]!.url;
      for (let i = 0; i < 3; i++) expect((await getFresh(url)).status).toBe(200);
    }
    const before = new PromScrape((await getFresh(`${stack.apiUrl}/metrics`)).body.toString());
    const healthz = { method: 'GET', route: '/healthz', status: '200' };
    for (let i = 0; i < 10; i++) expect((await getFresh(`${stack.apiUrl}/healthz`)).status).toBe(200);
    const after = new PromScrape((await getFresh(`${stack.apiUrl}/metrics`)).body.toString());
    expect(
      after.sum('fluxq_api_requests_total', healthz) - before.sum('fluxq_api_requests_total', healthz),
    ).toBe(10);
  });

  // A replacement process loads the API from source: slow on a busy machine.
  it('replaces an API process that dies, and keeps serving meanwhile', { timeout: 120_000 }, async () => {
    const [victim, survivor] = await childrenOf(stack.api.pid);
    process.kill(victim!, 'SIGKILL');
    // The survivor answers meanwhile (a connection caught by the dying process is retried).
    await waitFor(
      async () => (await getFresh(`${stack.apiUrl}/healthz`).catch(() => undefined))?.status === 200,
      {
        timeoutMs: 20_000,
        message: 'the surviving API process to answer',
      },
    );
    const replaced = await waitFor(
      async () => {
        const now = await childrenOf(stack.api.pid);
        return now.length === 2 && !now.includes(victim!) ? now : undefined;
      },
      { timeoutMs: 90_000, message: 'a replacement API process' },
    );
    expect(replaced).toContain(survivor);
    await waitFor(
      async () => (await getFresh(`${stack.apiUrl}/healthz`).catch(() => undefined))?.status === 200,
      {
        timeoutMs: 10_000,
        message: 'the API to answer',
      },
    );
  });

  it('stops every API process on SIGTERM and exits 0', async () => {
    const children = await childrenOf(stack.api.pid);
    expect(children).toHaveLength(2);
    expect(await stack.api.stop('SIGTERM')).toBe(0);
    await waitFor(() => children.every((pid) => !alive(pid)), {
      timeoutMs: 10_000,
      message: 'children gone',
    });
  });
});
