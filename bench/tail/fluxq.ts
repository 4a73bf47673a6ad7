import { appendFile } from 'node:fs/promises';
import type { ModelId } from '@fluxq/core';
import { createJobStore, recordKeys } from '@fluxq/store';
import { waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { runOnSchedule } from './arrivals.js';
import { countHedgesAndRetries, describeLateJobs, type LateJobView } from './attempt-logs.js';
import { drainSim, type TailStack } from './stack.js';
import type { RunResult } from './stats.js';

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

interface JobView extends LateJobView {
  status: string;
}

/** Reads each job through the API, `concurrency` at a time. */
async function readJobs(apiUrl: string, ids: readonly string[], concurrency: number): Promise<JobView[]> {
  const out: JobView[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const response = await fetch(`${apiUrl}/v1/jobs/${id}`);
        if (response.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${response.status}`);
        out.push((await response.json()) as JobView);
      }
    }),
  );
  return out;
}

export interface FluxqRunOptions {
  /** How long to wait after the last arrival for every job to finish, ms. */
  drainMs: number;
  /** Called with the first submit error, if any (the run goes on). */
  onSubmitError?: (message: string) => void;
  /** Jobs slower than this (bench ms) are late: their attempt logs are summed up in `lateJobs`. */
  lateAfterMs?: number;
  /** Appends the late jobs (one JSON line each, attempt log included) to this file. */
  lateLogPath?: string;
}

/**
 * FLUXQ for one model: each job on the schedule is a `POST /v1/jobs` (interactive, so it
 * may be hedged); the job store's status events say when it is done, and its latency is
 * the record's `timings.total_ms` (accepted → succeeded).
 */
export async function runFluxq(
  stack: TailStack,
  model: ModelId,
  offsets: readonly number[],
  options: FluxqRunOptions,
): Promise<RunResult> {
  stack.sim.reset();
  const done = new Map<string, string>();
  const events = new Redis(stack.redis.url);
  events.on('message', (_channel: string, message: string) => {
    const space = message.lastIndexOf(' ');
    const status = message.slice(space + 1);
    if (TERMINAL.has(status)) done.set(message.slice(0, space), status);
  });
  await events.subscribe(recordKeys.jobEvents);

  let reported = false;
  const ids = await runOnSchedule(offsets, async (i): Promise<string | undefined> => {
    try {
      const response = await fetch(`${stack.apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          prompt: `bench tail image ${i}`,
          size: '512x512',
          seed: i,
          priority: 'interactive',
        }),
      });
      const text = await response.text();
      if (response.status !== 202) throw new Error(`POST /v1/jobs answered ${response.status}: ${text}`);
      return (JSON.parse(text) as { id: string }).id;
    } catch (error) {
      if (!reported) options.onSubmitError?.((error as Error).message);
      reported = true;
      return undefined;
    }
  });
  const accepted = ids.filter((id): id is string => id !== undefined);
  await waitFor(() => accepted.every((id) => done.has(id)), {
    timeoutMs: options.drainMs,
    intervalMs: 100,
    message: 'every job to finish',
  }).catch(() => undefined);
  await events.quit();
  // Hedge losers and timed-out attempts are cancelled by the workers; let that settle first.
  await drainSim(stack.sim, 10_000);
  const stats = stack.sim.stats();

  const diagnostics = await readDiagnostics(stack.redis.url, accepted);
  const succeededIds = accepted.filter((id) => done.get(id) === 'succeeded');
  const jobs = await readJobs(stack.apiUrl, succeededIds, 16);
  if (options.lateAfterMs !== undefined && options.lateLogPath) {
    // Trial runs: the late jobs' attempt logs, one JSON line each, for reading by hand.
    const late = jobs.filter((job) => (job.timings.total_ms ?? 0) > (options.lateAfterMs ?? 0));
    await appendFile(options.lateLogPath, late.map((job) => `${JSON.stringify(job)}\n`).join(''));
  }
  const latenciesMs = jobs.flatMap((job) =>
    job.status === 'succeeded' && job.timings.total_ms !== null ? [job.timings.total_ms] : [],
  );
  return {
    model,
    rate: 0,
    mode: 'fluxq',
    jobs: offsets.length,
    succeeded: latenciesMs.length,
    latenciesMs,
    submits: stats.submits,
    ran: stats.ran,
    billed: stats.billed,
    unfinished: accepted.filter((id) => !done.has(id)).length,
    ...diagnostics,
    ...countHedgesAndRetries(jobs),
    ...(options.lateAfterMs === undefined ? {} : { lateJobs: describeLateJobs(jobs, options.lateAfterMs) }),
  };
}

/** Attempts, retried jobs and hedges that won, from the job records (losing requests are dropped from them). */
async function readDiagnostics(redisUrl: string, ids: readonly string[]) {
  const redis = new Redis(redisUrl);
  try {
    const records = await createJobStore(redis).getMany([...ids]);
    let attempts = 0;
    let retriedJobs = 0;
    let hedgesWon = 0;
    for (const record of records) {
      if (!record) continue;
      attempts += record.attempts;
      if (record.attempts > 1) retriedJobs++;
      hedgesWon += record.fal_requests.filter((ref) => ref.hedge).length;
    }
    return { attempts, retriedJobs, hedgesWon };
  } finally {
    await redis.quit();
  }
}
