// `@fluxq/sdk` and `@fluxq/cli` as a user gets them: `npm pack` (prepack builds dist/), then
// installed from the tarballs into an empty folder outside the repository, offline, and run
// with plain node against a real API.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from '../../apps/api/test/api-harness.js';

const run = promisify(execFile);
/** Packing compiles both packages; installing is offline and quick. Unit: milliseconds. */
const TIMEOUT_MS = 180_000;

describe('the SDK and CLI tarballs', () => {
  let work: string;
  let app: string;
  let api: ApiHarness;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'fluxq-pack-'));
    app = join(work, 'app');
    const tarballs: string[] = [];
    for (const dir of ['packages/sdk', 'apps/cli']) {
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
        cwd: join(repoRoot, dir),
      });
      const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
      tarballs.push(join(work, packed!.filename));
    }
    await run('mkdir', ['-p', app]);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs], { cwd: app });
    api = await startApi();
  }, TIMEOUT_MS);
  afterAll(async () => {
    await api?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs nothing but themselves: no tsx, no private workspace', async () => {
    expect((await readdir(join(app, 'node_modules'))).filter((name) => !name.startsWith('.'))).toEqual([
      '@fluxq',
    ]);
    expect((await readdir(join(app, 'node_modules', '@fluxq'))).sort()).toEqual(['cli', 'sdk']);
  });

  it('runs `npx fluxq --help` with plain node', async () => {
    const { stdout } = await run('npx', ['--offline', 'fluxq', '--help'], { cwd: app });
    expect(stdout).toMatch(/Usage: fluxq/);
    expect(stdout).toMatch(/edit/);
  });

  it('lists jobs from a real API with the installed CLI', async () => {
    const { stdout } = await run(
      'npx',
      ['--offline', 'fluxq', 'jobs', 'list', '--base-url', api.url, '--json'],
      {
        cwd: app,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ data: [] });
  });

  it('imports createClient from the installed SDK and calls the API', async () => {
    const script = join(app, 'use-sdk.mjs');
    await writeFile(
      script,
      [
        "import { createClient } from '@fluxq/sdk';",
        'const client = createClient({ baseURL: process.argv[2] });',
        'const page = await client.jobs.list();',
        'console.log(JSON.stringify({ jobs: page.data.length }));',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, [script, api.url], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ jobs: 0 });
  });
});
