// Production runs compiled JavaScript with plain node and production dependencies only
// (issue 12 §4). Docker cannot build the image here (no base image can be pulled), so this
// builds the image's runtime layout the way the Dockerfile does — the same two scripts, in a
// temp folder outside the repository — checks what got installed, and runs the services
// from it. It also runs `npm run start:prod` from the repository.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getFreePort, repoRoot, spawnService, startRedisServer, waitFor } from '@fluxq/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './e2e/stack.js';

const run = promisify(execFile);
/** Compiling the services and an offline `npm ci` of their dependencies. Unit: milliseconds. */
const SETUP_TIMEOUT_MS = 240_000;
const SERVICES = ['@fluxq/api', '@fluxq/worker', '@fluxq/fal-sim'];
/** Never in the image: the tools that run TypeScript, test or build. */
const DEV_ONLY = [
  'tsx',
  'vitest',
  'turbo',
  '@biomejs/biome',
  '@fluxq/testing',
  'testcontainers',
  'playwright-core',
];

const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');

/** `FROM … AS name` → that stage's instruction lines (continuations joined). */
function dockerStages(text: string): Map<string, string[]> {
  const stages = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.replace(/\\\n\s*/g, ' ').split('\n')) {
    const from = line.match(/^FROM\s+\S+\s+AS\s+(\S+)/i);
    if (from) {
      current = [];
      stages.set(from[1]!, current);
    } else if (current && line.trim() && !line.trim().startsWith('#')) current.push(line.trim());
  }
  return stages;
}

/** The README's first curl job: `-d '{…}'` of the first `POST /v1/jobs` example. */
async function readmeCurlJob(): Promise<Record<string, unknown>> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const body = readme.match(/curl -s http:\/\/127\.0\.0\.1:8080\/v1\/jobs [^\n]*\\\n\s*-d '([^']+)'/);
  if (!body) throw new Error('README.md has no curl example for POST /v1/jobs');
  return JSON.parse(body[1]!) as Record<string, unknown>;
}

async function runReadmeJob(apiUrl: string): Promise<void> {
  const job = await readmeCurlJob();
  const submitted = await fetch(`${apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job),
  });
  expect(submitted.status).toBe(202);
  const { id } = (await submitted.json()) as { id: string };
  let view: { status: string; output?: { images: Array<{ url: string }> } } = { status: 'queued' };
  await waitFor(
    async () => {
      view = (await (await fetch(`${apiUrl}/v1/jobs/${id}`)).json()) as typeof view;
      return ['succeeded', 'failed', 'canceled'].includes(view.status);
    },
    { timeoutMs: 60_000 },
  );
  expect(view.status).toBe('succeeded');
  const file = await fetch(view.output!.images[0]!.url);
  expect(file.status).toBe(200);
  const [width, height] = String(job.size).split('x').map(Number);
  expect(await sharp(Buffer.from(await file.arrayBuffer())).metadata()).toMatchObject({ width, height });
}

/** Command lines of `pid`'s child processes, from /proc. */
async function childCommandLines(pid: number): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 is the parent pid; field 2, the command name, may hold spaces, so split after ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    lines.push(cmdline.split('\0').join(' ').trim());
  }
  return lines;
}

beforeAll(async () => {
  // Only the services and the launcher's packages: the SDK and CLI are packed (and built) by
  // scripts/test/install-packages.test.ts, which may run at the same time.
  const filters = [...SERVICES, '@fluxq/supervisor'].flatMap((name) => ['--filter', name]);
  await run('npx', ['turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], { cwd: repoRoot });
  await run('npx', ['tsc', '-p', 'scripts/tsconfig.build.json'], { cwd: repoRoot });
}, SETUP_TIMEOUT_MS);

describe('the Dockerfile', () => {
  const stages = dockerStages(dockerfile);
  const runtime = stages.get('runtime') ?? [];
  const prodDeps = stages.get('prod-deps') ?? [];

  it('ends in a runtime stage made of production dependencies and compiled output', () => {
    expect([...stages.keys()].at(-1)).toBe('runtime');
    const copies = runtime.filter((line) => /^COPY\b/.test(line));
    expect(copies).toEqual(['COPY --from=prod-deps /app /app', 'COPY --from=build /out/ /app/']);
    expect(stages.get('build')?.join('\n')).toMatch(
      /npm run build && sh scripts\/docker\/runtime-files\.sh \/out/,
    );
    expect(prodDeps.join('\n')).toMatch(/node \/tmp\/production-deps\.mjs/);
  });

  it('runs the api with plain node, and no stage it ships from mentions tsx', () => {
    expect(runtime.find((line) => line.startsWith('CMD'))).toBe('CMD ["node", "apps/api/dist/main.js"]');
    expect([...runtime, ...prodDeps].join('\n')).not.toMatch(/tsx|@fluxq\/source/);
  });

  it('installs with npm ci --omit=dev', async () => {
    const script = await readFile(join(repoRoot, 'scripts/docker/production-deps.mjs'), 'utf8');
    expect(script).toMatch(/execFileSync\('npm', \['ci', '--omit=dev'/);
  });
});

describe('the image layout, built outside the repository', () => {
  let layout: string;
  let stack: Stack | undefined;

  beforeAll(async () => {
    layout = await mkdtemp(join(tmpdir(), 'fluxq-image-'));
    // What the prod-deps stage copies: root manifests and every workspace's package.json.
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      await cp(join(repoRoot, file), join(layout, file));
    for (const parent of ['apps', 'packages']) {
      for (const name of await readdir(join(repoRoot, parent))) {
        await mkdir(join(layout, parent, name), { recursive: true });
        await cp(join(repoRoot, parent, name, 'package.json'), join(layout, parent, name, 'package.json'));
      }
    }
    await run('node', [join(repoRoot, 'scripts/docker/production-deps.mjs'), '--prefer-offline'], {
      cwd: layout,
    });
    await run('sh', ['scripts/docker/runtime-files.sh', layout], { cwd: repoRoot });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.close();
    if (layout) await rm(layout, { recursive: true, force: true });
  });

  it('has no dev dependency installed, and every production dependency resolves', async () => {
    const lock = JSON.parse(await readFile(join(layout, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const installed: string[] = [];
    for (const name of await readdir(join(layout, 'node_modules'))) {
      if (name.startsWith('.')) continue;
      if (!name.startsWith('@')) installed.push(name);
      else
        for (const sub of await readdir(join(layout, 'node_modules', name))) installed.push(`${name}/${sub}`);
    }
    expect(installed).toEqual(expect.arrayContaining(['express', 'bullmq', 'sharp', '@fluxq/api']));
    for (const name of DEV_ONLY) expect(installed).not.toContain(name);
    const devMarked = installed.filter((name) => lock.packages[`node_modules/${name}`]?.dev === true);
    expect(devMarked).toEqual([]);
    // Exits non-zero on a missing or invalid production dependency of a service.
    const workspaces = SERVICES.flatMap((name) => ['--workspace', name]);
    await run('npm', ['ls', '--omit=dev', '--all', ...workspaces], {
      cwd: layout,
      maxBuffer: 64 * 1024 * 1024,
    });
  });

  it('runs the README curl job on the compiled api and worker from that layout', async () => {
    stack = await startStack({ runtime: 'built', root: layout });
    await runReadmeJob(stack.apiUrl);
    const [api] = (await childCommandLines(process.pid)).filter((line) =>
      line.includes(`${layout}/apps/api`),
    );
    expect(api).toBe(`${process.execPath} ${join(layout, 'apps/api/dist/main.js')}`);
  });
});

describe('npm run start:prod', () => {
  it('runs redis, the simulator, api and worker as compiled JavaScript, and serves the README curl job', async () => {
    const redis = await startRedisServer();
    const storage = await mkdtemp(join(tmpdir(), 'fluxq-start-prod-'));
    const port = await getFreePort();
    const launcher = await spawnService({
      name: 'start:prod',
      entry: 'scripts/start.ts',
      runtime: 'built',
      env: {
        REDIS_URL: redis.url,
        PORT: String(port),
        FAL_SIM_PORT: String(await getFreePort()),
        FAL_KEY: undefined,
        FAL_SIM_TIME_SCALE: '0.01',
        PUBLIC_BASE_URL: undefined,
        STORAGE_DIR: storage,
        FILES_SIGNING_SECRET: 'start-prod-test-signing-secret-0123456789',
      },
      ready: { logLine: /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/jobs\/<id>/ },
      timeoutMs: 60_000,
      stopTimeoutMs: 20_000,
    });
    try {
      await runReadmeJob(`http://127.0.0.1:${port}`);
      const children = await childCommandLines(launcher.pid);
      expect(children.map((line) => line.split(' ').slice(1).join(' ')).sort()).toEqual(
        ['apps/api', 'apps/fal-sim', 'apps/worker'].map((app) => join(repoRoot, app, 'dist/main.js')),
      );
    } finally {
      await launcher.stop();
      await redis.stop();
      await rm(storage, { recursive: true, force: true });
    }
  });
});
