import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { repoRoot, type S3Server, startS3Server, tsNodeArgs } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A misconfigured store stops the API and the worker before they touch Redis or accept work,
// with one line on stderr naming the variable to fix (and never the secret itself).

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => s3?.stop());

async function start(entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, tsNodeArgs(entry), {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...s3.env(),
      // Nothing listens here: start-up must fail on storage before it would need Redis or fal.
      REDIS_URL: 'redis://127.0.0.1:9',
      FAL_BASE_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, lines: stderr.split('\n').filter((line) => line.trim() !== '') };
}

describe('S3 start-up check', () => {
  it.each([
    ['api', 'apps/api/src/main.ts'],
    ['worker', 'apps/worker/src/main.ts'],
  ])('the %s refuses a wrong secret with one line naming AWS_SECRET_ACCESS_KEY', async (name, entry) => {
    const { code, lines } = await start(entry, { AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' });
    expect(code).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^fluxq ${name} failed to start: AWS_SECRET_ACCESS_KEY: `)),
    ]);
    expect(lines.join('\n')).not.toContain('wrong-secret-value');
  });

  it.each([
    ['api', 'apps/api/src/main.ts'],
    ['worker', 'apps/worker/src/main.ts'],
  ])('the %s refuses a missing bucket with one line naming S3_BUCKET', async (name, entry) => {
    const { code, lines } = await start(entry, { S3_BUCKET: 'no-such-bucket' });
    expect(code).toBe(1);
    expect(lines).toEqual([
      `fluxq ${name} failed to start: S3_BUCKET: bucket "no-such-bucket" does not exist at ${s3.endpoint}`,
    ]);
  });

  it('the api refuses STORAGE_DRIVER=s3 without S3_BUCKET at configuration', async () => {
    const { code, lines } = await start('apps/api/src/main.ts', { S3_BUCKET: '' });
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('S3_BUCKET');
  });
});
