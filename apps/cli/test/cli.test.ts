import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli.js';
import type { Io } from '../src/io.js';

function fakeIo(env: NodeJS.ProcessEnv = {}, signal = new AbortController().signal) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    env,
    cwd: process.cwd(),
    signal,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

let api: Server;
let apiUrl: string;
beforeAll(async () => {
  // Answers every request like the API does for an unknown job.
  api = createServer((req, res) => {
    res.writeHead(404, { 'content-type': 'application/json', 'x-request-id': 'req_1' });
    res.end(
      JSON.stringify({
        error: { type: 'invalid_request_error', code: 'job_not_found', message: `no job ${req.url}` },
      }),
    );
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(() => {
  api.close();
});

describe('run', () => {
  it('prints help with exit 0, and usage errors with exit 2', async () => {
    const help = fakeIo();
    expect(await run(['--help'], help.io)).toBe(0);
    expect(help.stdout()).toContain('fluxq <command>');
    for (const command of ['edit', 'generate', 'jobs', 'batches', 'webhooks']) {
      const one = fakeIo();
      expect(await run([command, '--help'], one.io)).toBe(0);
      expect(one.stdout()).toMatch(/^Usage: fluxq /);
    }
    const unknown = fakeIo();
    expect(await run(['frobnicate'], unknown.io)).toBe(2);
    const bad = fakeIo();
    expect(await run(['jobs', 'explode', 'x'], bad.io)).toBe(2);
    expect(bad.stderr()).toMatch(/unknown jobs action explode/);
  });

  it('prints an API error as one line with its code, exit 1', async () => {
    const out = fakeIo({ FLUXQ_BASE_URL: apiUrl });
    expect(await run(['jobs', 'get', 'job_missing'], out.io)).toBe(1);
    expect(out.stderr()).toBe(
      'fluxq jobs: error: job_not_found: no job /v1/jobs/job_missing (request req_1)\n',
    );
  });

  it('webhooks listen prints verified events and refuses bad signatures', async () => {
    const secret = `whsec_${Buffer.from('a-test-key-of-some-length').toString('base64')}`;
    const controller = new AbortController();
    const out = fakeIo({}, controller.signal);
    const done = run(['webhooks', 'listen', '--port', '0', '--secret', secret], out.io);
    let url: string | undefined;
    for (let i = 0; i < 100 && !url; i++) {
      url = /listening for webhooks on (\S+)/.exec(out.stderr())?.[1];
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(url).toBeDefined();
    const body = JSON.stringify({
      type: 'job.succeeded',
      timestamp: '2025-01-01T00:00:00Z',
      data: { id: 'job_1' },
    });
    const id = 'msg_1';
    const ts = String(Math.floor(Date.now() / 1000));
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
    const headers = { 'webhook-id': id, 'webhook-timestamp': ts, 'content-type': 'application/json' };
    const good = await fetch(url!, {
      method: 'POST',
      body,
      headers: { ...headers, 'webhook-signature': `v1,${signature}` },
    });
    expect(good.status).toBe(204);
    const forged = await fetch(url!, {
      method: 'POST',
      body,
      headers: { ...headers, 'webhook-signature': 'v1,AAAA' },
    });
    expect(forged.status).toBe(400);
    controller.abort();
    expect(await done).toBe(0);
    expect(JSON.parse(out.stdout())).toMatchObject({
      id: 'msg_1',
      type: 'job.succeeded',
      data: { id: 'job_1' },
    });
    expect(out.stderr()).toMatch(/rejected a webhook/);
  });
});
