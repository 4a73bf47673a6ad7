import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createS3Storage } from '@fluxq/storage';
import {
  makeDataUri,
  makeImage,
  type S3Server,
  startS3Server,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from '@fluxq/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, type Job, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

// The API and two workers as if on three machines: each has its own empty STORAGE_DIR and
// STORAGE_DRIVER=s3, so a job only succeeds if inputs, uploads and outputs travel through the
// bucket. The S3 server is s3rver behind the harness's SigV4 front: it, not the test, refuses
// bad and expired presigned URLs.

const FILE_URL_TTL_S = 120;
/** The front's clock runs this far ahead when a test checks expiry. */
const clock = { aheadMs: 0 };
let s3: S3Server;
let stack: Stack;
let receiver: WebhookReceiver;
let imageServer: Server;
let imageServerUrl: string;
const remotePng = makeImage({ width: 900, height: 600, format: 'png' });

beforeAll(async () => {
  s3 = await startS3Server({ now: () => Date.now() + clock.aheadMs });
  const png = await remotePng;
  imageServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.byteLength }).end(png);
  });
  await new Promise<void>((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
  imageServerUrl = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}`;
  receiver = await startWebhookReceiver();
  const env = { ...s3.env(), FILE_URL_TTL_S: String(FILE_URL_TTL_S), ALLOW_HTTP_IMAGE_URLS: 'true' };
  stack = await startStack({
    workers: 2,
    storageEnv: env,
    separateStorageDirs: true,
    workerEnv: { HEDGE_PRIORITIES: 'none', WEBHOOK_SCHEDULE_SCALE: '0.0002' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await receiver?.stop();
  await new Promise((resolve) => imageServer?.close(resolve));
  await s3?.stop();
});

/** Downloads a presigned output URL from the S3 server and reads it with sharp. */
async function download(url: string) {
  expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/`)).toBe(true);
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { bytes, metadata: await sharp(bytes).metadata() };
}

async function expectOutputs(job: Job, size: { width: number; height: number }, format: string) {
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  expect(job.output!.images.length).toBeGreaterThan(0);
  for (const image of job.output!.images) {
    const url = new URL(image.url);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(FILE_URL_TTL_S));
    expect(url.pathname).toContain(`/outputs/`);
    const file = await download(image.url);
    expect(file.bytes.length).toBe(image.bytes);
    expect(file.metadata).toMatchObject({ ...size, format });
  }
}

async function upload(png: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'ref.png');
  const res = await fetch(`${stack.apiUrl}/v1/uploads`, { method: 'POST', body: form });
  const body = (await res.json()) as { id: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.id;
}

/** Every file under `dir` (hidden temp files too). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => `${entry.parentPath}/${entry.name}`);
}

describe('S3 storage, end to end: API and two workers on separate disks', () => {
  const finished: Job[] = [];

  it('runs an edit from an upload, stored in and served by the bucket', async () => {
    const uploadId = await upload(await makeImage({ width: 640, height: 480, format: 'png' }));
    // The API put the upload in the bucket (open mode's tenant is `local`), where the workers find it.
    const bucket = createS3Storage({
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    expect(await bucket.stat(`uploads/local/${uploadId}.png`)).toMatchObject({ contentType: 'image/png' });
    const jobs = await Promise.all(
      ['autumn', 'winter', 'spring'].map((prompt) =>
        submitJob(stack.apiUrl, {
          prompt,
          images: [uploadId],
          size: '1024x768',
          output_format: 'webp',
          webhook_url: `${receiver.url}/hooks`,
        }),
      ),
    );
    for (const submitted of jobs) {
      const job = await waitForTerminal(stack.apiUrl, submitted.id, 60_000);
      await expectOutputs(job, { width: 1024, height: 768 }, 'webp');
      finished.push(job);
    }
  });

  it('runs edits from a data URI and from an image URL', async () => {
    const inline = await submitJob(stack.apiUrl, {
      prompt: 'snow',
      images: [makeDataUri(await makeImage({ width: 800, height: 800, format: 'jpeg' }), 'image/jpeg')],
      size: '512x512',
      output_format: 'jpeg',
    });
    const remote = await submitJob(stack.apiUrl, {
      prompt: 'night',
      images: [`${imageServerUrl}/remote.png`],
      size: '768x512',
      output_format: 'png',
    });
    const inlineJob = await waitForTerminal(stack.apiUrl, inline.id, 60_000);
    await expectOutputs(inlineJob, { width: 512, height: 512 }, 'jpeg');
    // Stored inputs are presigned too.
    const input = inlineJob.input as unknown as { images: Array<{ url: string }> };
    expect((await download(input.images[0]!.url)).metadata).toMatchObject({ format: 'jpeg' });
    const remoteJob = await waitForTerminal(stack.apiUrl, remote.id, 60_000);
    await expectOutputs(remoteJob, { width: 768, height: 512 }, 'png');
    finished.push(inlineJob, remoteJob);
  });

  it('runs generations with several images', async () => {
    const submitted = await submitJob(stack.apiUrl, {
      prompt: 'a lighthouse',
      size: '640x640',
      n: 2,
      output_format: 'png',
    });
    const job = await waitForTerminal(stack.apiUrl, submitted.id, 60_000);
    expect(job.output?.images).toHaveLength(2);
    await expectOutputs(job, { width: 640, height: 640 }, 'png');
    finished.push(job);
  });

  it('runs a small batch whose results carry presigned URLs', async () => {
    const requests = Array.from({ length: 6 }, (_, i) => ({
      custom_id: `b-${i}`,
      prompt: `tiny ${i}`,
      size: '512x512',
      output_format: 'webp',
    }));
    const res = await fetch(`${stack.apiUrl}/v1/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests }),
    });
    const batch = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(batch)).toBe(202);
    await waitFor(
      async () => {
        const view = (await (await fetch(`${stack.apiUrl}/v1/batches/${batch.id}`)).json()) as {
          status: string;
        };
        return view.status === 'completed';
      },
      { timeoutMs: 60_000, intervalMs: 200, message: 'the batch to complete' },
    );
    const text = await (await fetch(`${stack.apiUrl}/v1/batches/${batch.id}/results`)).text();
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; output: Job['output'] });
    expect(lines).toHaveLength(6);
    for (const line of lines) {
      expect(line.status).toBe('succeeded');
      for (const image of line.output!.images) {
        expect((await download(image.url)).metadata).toMatchObject({
          width: 512,
          height: 512,
          format: 'webp',
        });
      }
    }
  });

  it('puts presigned URLs in webhook bodies', async () => {
    const requests = await receiver.waitForRequests(3, 30_000);
    for (const request of requests.slice(0, 3)) {
      const body = JSON.parse(request.body) as { type: string; data: Job };
      expect(body.type).toBe('job.succeeded');
      for (const image of body.data.output!.images) {
        expect((await download(image.url)).metadata).toMatchObject({
          width: 1024,
          height: 768,
          format: 'webp',
        });
      }
    }
  });

  it('has the server refuse a tampered or expired URL', async () => {
    const fresh = await getJob(stack.apiUrl, finished[0]!.id);
    const url = new URL(fresh.output!.images[0]!.url);
    const sig = url.searchParams.get('X-Amz-Signature')!;
    const tampered = new URL(url);
    tampered.searchParams.set('X-Amz-Signature', `${sig.slice(0, -1)}${sig.endsWith('a') ? 'b' : 'a'}`);
    const tamperedRes = await fetch(tampered);
    expect(tamperedRes.status).toBe(403);
    expect(await tamperedRes.text()).toContain('SignatureDoesNotMatch');
    // Another job's (or tenant's) key under this URL's signature.
    const otherKey = new URL(url.href.replace(/\/outputs\/([^/]+)\/[^/]+\//, '/outputs/$1/job_other/'));
    expect((await fetch(otherKey)).status).toBe(403);

    expect((await fetch(url)).status).toBe(200);
    clock.aheadMs = (FILE_URL_TTL_S + 1) * 1000;
    try {
      const expired = await fetch(url);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toContain('Request has expired');
    } finally {
      clock.aheadMs = 0;
    }
  });

  it('wrote nothing to any process’s local STORAGE_DIR', async () => {
    expect(stack.storageDirs).toHaveLength(3);
    for (const dir of stack.storageDirs) expect(await filesUnder(dir)).toEqual([]);
    // And the objects are in the bucket's store instead.
    expect(s3.stats.accepted).toBeGreaterThan(0);
    expect(s3.stats.refused.SignatureDoesNotMatch ?? 0).toBeGreaterThanOrEqual(2);
  });
});
