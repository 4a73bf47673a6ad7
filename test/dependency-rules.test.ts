// The boundary check CI runs (`npm run deps:check`, issue 15 §6) fails on a bad import. Each case
// builds a small repository of its own in a temp folder — the real .dependency-cruiser.cjs, a
// package, an app, a stand-in ioredis — adds one bad import, and runs the repository's own
// `deps:check` script there, so what is shown failing is the command CI runs. The folder goes
// when the case ends.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@fluxq/testing';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const { scripts } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** A repository with the real config and nothing that breaks a rule. */
const CLEAN: Record<string, string> = {
  '.dependency-cruiser-known-violations.json': '[]\n',
  'node_modules/ioredis/package.json': JSON.stringify({ name: 'ioredis', main: 'index.js' }),
  'node_modules/ioredis/index.js': 'export class Redis {}\n',
  'packages/good/package.json': JSON.stringify({
    name: '@fluxq/good',
    type: 'module',
    exports: { '.': { '@fluxq/source': './src/index.ts', default: './dist/index.js' } },
  }),
  'packages/good/src/index.ts': 'export const good = 1;\n',
  'apps/app/package.json': JSON.stringify({
    name: '@fluxq/app',
    type: 'module',
    exports: { '.': { '@fluxq/source': './src/index.ts', default: './dist/index.js' } },
  }),
  'apps/app/src/index.ts': "import { good } from '@fluxq/good';\n\nexport const app = good;\n",
  'scripts/start.ts': "import { app } from '@fluxq/app';\n\nexport const started = app;\n",
  'test/app.test.ts': "import { app } from '../apps/app/src/index.js';\n\nexport const tested = app;\n",
  'bench/run.ts': 'export const bench = 0;\n',
};

let folder: string | undefined;
afterEach(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

async function repository(extra: Record<string, string> = {}): Promise<string> {
  folder = await mkdtemp(join(tmpdir(), 'fluxq-deps-'));
  for (const [file, text] of Object.entries({ ...CLEAN, ...extra })) {
    await mkdir(dirname(join(folder, file)), { recursive: true });
    await writeFile(join(folder, file), text);
  }
  await copyFile(join(repoRoot, '.dependency-cruiser.cjs'), join(folder, '.dependency-cruiser.cjs'));
  // What npm's workspace links are: `@fluxq/<name>` → the workspace folder.
  await mkdir(join(folder, 'node_modules/@fluxq'), { recursive: true });
  await symlink('../../packages/good', join(folder, 'node_modules/@fluxq/good'));
  await symlink('../../apps/app', join(folder, 'node_modules/@fluxq/app'));
  return folder;
}

/** Runs one of the repository's npm scripts in `cwd`, with the repository's tools on PATH. */
async function npmScript(name: string, cwd: string): Promise<{ code: number; output: string }> {
  const script = scripts[name];
  if (!script) throw new Error(`package.json has no "${name}" script`);
  const env = { ...process.env, PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}` };
  try {
    const { stdout, stderr } = await run('sh', ['-c', script], { cwd, env });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('npm run deps:check', () => {
  it('passes on a repository whose imports keep the rules', async () => {
    const { code, output } = await npmScript('deps:check', await repository());
    expect(output).toMatch(/no dependency violations found/);
    expect(code).toBe(0);
  });

  it.each([
    ['by path', "import { app } from '../../../apps/app/src/index.js';\n\nexport const bad = app;\n"],
    ['by its workspace name', "import { app } from '@fluxq/app';\n\nexport const bad = app;\n"],
  ])('fails with no-package-imports-app when a package imports an app %s', async (_how, text) => {
    const { code, output } = await npmScript(
      'deps:check',
      await repository({ 'packages/good/src/bad.ts': text }),
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(
      /error no-package-imports-app: packages\/good\/src\/bad\.ts → apps\/app\/src\/index\.ts/,
    );
  });

  it('fails with no-circular on an import cycle, type-only imports included', async () => {
    const { code, output } = await npmScript(
      'deps:check',
      await repository({
        'packages/good/src/a.ts': "import { b } from './b.js';\n\nexport const a = () => b;\n",
        'packages/good/src/b.ts': "import type { a } from './a.js';\n\nexport const b: typeof a | 1 = 1;\n",
      }),
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(/error no-circular: packages\/good\/src\/a\.ts →/);
  });

  it('fails with no-app-imports-ioredis when an app imports ioredis', async () => {
    const { code, output } = await npmScript(
      'deps:check',
      await repository({
        'apps/app/src/redis.ts': "import type { Redis } from 'ioredis';\n\nexport type Handle = Redis;\n",
      }),
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(
      /error no-app-imports-ioredis: apps\/app\/src\/redis\.ts → node_modules\/ioredis\//,
    );
  });

  it('lets a violation recorded by deps:baseline pass, and fails on a new one', async () => {
    const known = "import { Redis } from 'ioredis';\n\nexport const known = new Redis();\n";
    const cwd = await repository({ 'apps/app/src/known.ts': known });
    expect((await npmScript('deps:baseline', cwd)).code).toBe(0);
    const baseline = await npmScript('deps:check', cwd);
    expect(baseline.output).toMatch(/1 known violations ignored/);
    expect(baseline.code).toBe(0);

    await writeFile(join(cwd, 'apps/app/src/new.ts'), known.replace('known', 'fresh'));
    const { code, output } = await npmScript('deps:check', cwd);
    expect(code).not.toBe(0);
    expect(output).toMatch(/error no-app-imports-ioredis: apps\/app\/src\/new\.ts/);
    expect(output).not.toMatch(/known\.ts/);
  });
});
