import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Runs `src/main.ts` the way `npm start` does: tsx with the source condition. */
function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@fluxq/source', MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('the fal-sim process', () => {
  describe('when started with a free port', () => {
    it('prints its URL, answers /health, and exits 0 on SIGTERM', async () => {
      const run = runMain({ FAL_SIM_PORT: '0', FAL_SIM_TIME_SCALE: '0' });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          run.child.stdout.on('data', () => {
            const match = /^fal-sim listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(run.out());
            if (match) resolve(match[1]!);
          });
          run.exited.then(() => reject(new Error(`exited early: ${run.err()}`)));
        });
        expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true });
        run.child.kill('SIGTERM');
        const [code] = await run.exited;
        expect(code).toBe(0);
      } finally {
        if (run.child.exitCode === null) run.child.kill('SIGKILL');
      }
    });
  });

  describe('when a variable is invalid', () => {
    it('exits 1 with a message naming the variable', async () => {
      const run = runMain({ FAL_SIM_MAX_CONCURRENCY: '-3' });
      const [code] = await run.exited;
      expect(code).toBe(1);
      expect(run.err()).toContain('FAL_SIM_MAX_CONCURRENCY');
    });
  });
});
