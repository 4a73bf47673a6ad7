import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordKeys } from '@fluxq/store';
import { makeImage, repoRoot, tsNodeArgs, waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

/**
 * `fluxq edit` as a user runs it, on the real stack: a folder of 30 images is uploaded and
 * edited in one batch; Ctrl-C mid-way leaves a state file, and `--resume` finishes the job
 * with no second upload or batch and without downloading finished outputs again. A
 * failing item makes the run exit 1 with the file named in the summary.
 */

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
type Json = any;

let stack: Stack;
let redis: Redis;
let work: string;

beforeAll(async () => {
  stack = await startStack({
    sim: { timeScale: 0 },
    // Few jobs at a time, so the batch runs long enough to be interrupted.
    workerEnv: { WORKER_CONCURRENCY: '3', HEDGE_PRIORITIES: 'none' },
  });
  redis = new Redis(stack.redis.url);
  work = await mkdtemp(join(tmpdir(), 'fluxq-cli-e2e-'));
}, 120_000);
afterAll(async () => {
  await redis?.quit();
  await stack?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function cli(args: string[]): CliRun {
  const child = spawn(process.execPath, [...tsNodeArgs('apps/cli/src/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, FLUXQ_BASE_URL: stack.apiUrl, FLUXQ_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function readState(out: string): Promise<Json | undefined> {
  try {
    return JSON.parse(await readFile(join(out, '.fluxq-state.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

async function makeFolder(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const format = i % 2 === 0 ? 'png' : 'jpeg';
    const bytes = await makeImage({
      width: 64 + (i % 5) * 40,
      height: 48 + (i % 3) * 56,
      format,
      seed: i + 1,
    });
    await writeFile(
      join(dir, `img-${String(i).padStart(2, '0')}.${format === 'png' ? 'png' : 'jpg'}`),
      bytes,
    );
  }
  // Not an image: a directory argument skips it.
  await writeFile(join(dir, 'notes.txt'), 'not an image\n');
}

const uploadCount = async () => (await redis.keys(recordKeys.upload('*'))).length;

describe('fluxq edit', () => {
  it('is interrupted with Ctrl-C and resumed: one batch, uploads once, nothing downloaded twice', async () => {
    const input = join(work, 'photos');
    const out = join(work, 'out');
    await makeFolder(input, 30);
    const uploadsBefore = await uploadCount();
    stack.sim.setFaults([{ on: 'outcome', delayMs: 300, times: -1 }]);
    const args = ['edit', input, '--prompt', 'make it autumn', '--format', 'webp', '--size', '512x512'];

    const first = cli([...args, '--out', out, '--poll-interval', '200']);
    const partial = await waitFor(
      async () => {
        const state = await readState(out);
        const n = state?.downloaded?.length ?? 0;
        return n >= 3 && n < 30 ? state : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20, message: 'some, not all, outputs downloaded' },
    );
    first.child.kill('SIGINT');
    expect(await first.exited, first.stderr()).toBe(130);
    expect(first.stdout()).toMatch(/--resume/);
    expect(first.stderr()).not.toMatch(/\n\s+at /); // no stack trace

    const stateAfterStop = await readState(out);
    expect(stateAfterStop.batchId).toBe(partial.batchId);
    const uploadIds = Object.values(stateAfterStop.items).map((item: Json) => item.uploadId);
    expect(uploadIds).toHaveLength(30);
    expect(new Set(uploadIds).size).toBe(30);
    expect(await uploadCount()).toBe(uploadsBefore + 30);
    expect(stateAfterStop.downloaded.length).toBeLessThan(30);

    // The files on disk before the resume, with their modification times.
    const before = new Map<string, number>();
    for (const name of await readdir(out)) {
      if (name.endsWith('.webp')) before.set(name, (await stat(join(out, name))).mtimeMs);
    }
    expect(before.size).toBe(stateAfterStop.downloaded.length);
    // No temporary file left behind.
    expect((await readdir(out)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const second = cli(['edit', '--resume', '--out', out, '--poll-interval', '200', '--json']);
    expect(await second.exited, second.stderr()).toBe(0);
    const summary = JSON.parse(second.stdout()) as Json;
    expect(summary).toMatchObject({
      batch_id: partial.batchId,
      total: 30,
      succeeded: 30,
      failed: 0,
      pending: 0,
      interrupted: false,
    });
    expect(summary.cost_usd).toBeGreaterThan(0);
    expect(second.stderr()).not.toMatch(/uploading/);
    // --json: progress on stderr as JSON lines, the last one the finished batch.
    const events = second
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Json);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((event) => event.type === 'progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'progress', succeeded: 30, failed: 0, total: 30 });

    const outputs = (await readdir(out)).filter((name) => name.endsWith('.webp')).sort();
    expect(outputs).toEqual(
      Array.from({ length: 30 }, (_, i) => `img-${String(i).padStart(2, '0')}.webp`).sort(),
    );
    for (const name of outputs) {
      const meta = await sharp(await readFile(join(out, name))).metadata();
      expect([name, meta.format, meta.width, meta.height]).toEqual([name, 'webp', 512, 512]);
    }
    for (const [name, mtimeMs] of before) {
      expect((await stat(join(out, name))).mtimeMs, `${name} was downloaded again`).toBe(mtimeMs);
    }

    // One batch of 30, and no more uploads.
    const list = (await (await fetch(`${stack.apiUrl}/v1/batches`)).json()) as Json;
    expect(list.data.map((batch: Json) => batch.id)).toEqual([partial.batchId]);
    const batch = (await (await fetch(`${stack.apiUrl}/v1/batches/${partial.batchId}`)).json()) as Json;
    expect(batch.request_counts).toMatchObject({ total: 30, succeeded: 30, failed: 0 });
    expect(await uploadCount()).toBe(uploadsBefore + 30);
    const finalState = await readState(out);
    expect(Object.values(finalState.items).map((item: Json) => item.uploadId)).toEqual(uploadIds);
    expect(finalState.downloaded).toHaveLength(30);

    // Without --resume, an output directory with a state file is refused.
    const again = cli([...args, '--out', out]);
    expect(await again.exited).toBe(2);
    expect(again.stderr()).toMatch(/--resume/);
  }, 120_000);

  it('exits 1 and names the failed file when an item fails', async () => {
    const input = join(work, 'few');
    const out = join(work, 'out-failing');
    await makeFolder(input, 3);
    stack.sim.setFaults([{ on: 'outcome', status: 422, times: 1 }]);
    const run = cli(['edit', input, '--prompt', 'sepia', '--out', out, '--poll-interval', '200']);
    expect(await run.exited, run.stderr()).toBe(1);
    expect(run.stdout()).toMatch(/2 succeeded, 1 failed of 3/);
    expect(run.stdout()).toMatch(/failed: img-0\d\.(png|jpg) .*provider_validation_error/);
    expect(run.stdout()).toContain(`outputs in ${out}`);
    expect((await readdir(out)).filter((name) => name.endsWith('.png'))).toHaveLength(2);
  }, 60_000);

  it('generate saves a job’s images; batches list/results print JSON and JSONL', async () => {
    stack.sim.setFaults([]);
    const out = join(work, 'generated');
    const gen = cli([
      'generate',
      'a red fox',
      '-n',
      '2',
      '--size',
      '512x512',
      '--format',
      'jpeg',
      '--out',
      out,
    ]);
    expect(await gen.exited, gen.stderr()).toBe(0);
    const files = gen.stdout().trim().split('\n');
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(file).toMatch(/-[12]\.jpeg$/);
      expect((await sharp(await readFile(file)).metadata()).format).toBe('jpeg');
    }

    const list = cli(['batches', 'list']);
    expect(await list.exited, list.stderr()).toBe(0);
    const batches = JSON.parse(list.stdout()) as Json;
    expect(batches.data.length).toBeGreaterThanOrEqual(1);
    const results = cli(['batches', 'results', batches.data.at(-1).id]);
    expect(await results.exited, results.stderr()).toBe(0);
    const lines = results
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    expect(lines).toHaveLength(30);
    expect(lines[0]).toMatchObject({ status: 'succeeded', custom_id: expect.stringMatching(/^img-/) });

    const missing = cli(['batches', 'get', 'batch_doesnotexist']);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr().trim().split('\n')).toHaveLength(1);
    expect(missing.stderr()).toMatch(/batch_not_found/);
  }, 60_000);
});
