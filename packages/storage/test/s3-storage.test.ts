import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localhostAgent, makeImage, type S3Server, startS3Server } from '@fluxq/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlobStorage,
  createS3Storage,
  createStorage,
  StorageError,
  StorageKeyError,
} from '../src/index.js';

// Real S3 protocol against s3rver in its own process; the harness's front checks every
// SigV4 signature and expiry (s3rver checks none), so refusals here are the server's.
let server: S3Server;
let clock = { offsetMs: 0 };
let storage: BlobStorage;

const credentialsOf = (s: S3Server, secret = s.secretAccessKey) => ({
  accessKeyId: s.accessKeyId,
  secretAccessKey: secret,
});

beforeAll(async () => {
  server = await startS3Server({ now: () => Date.now() + clock.offsetMs });
  storage = createS3Storage({
    bucket: server.bucket,
    endpoint: server.endpoint,
    forcePathStyle: true,
    prefix: 'test-run',
    credentials: credentialsOf(server),
  });
});

afterAll(async () => {
  await server?.stop();
});

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Deterministic, incompressible-looking bytes. */
function patterned(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('s3 storage driver', () => {
  it('puts, gets, stats, streams and deletes an image byte-exact', async () => {
    const png = await makeImage({ width: 64, height: 48, format: 'png' });
    const key = 'outputs/tenant-a/job-1/0.png';
    expect(await storage.put(key, png, { contentType: 'image/png' })).toEqual({ key, bytes: png.byteLength });
    const got = await storage.get(key);
    expect(got?.contentType).toBe('image/png');
    expect(Buffer.from(got!.bytes).equals(png)).toBe(true);
    expect(await storage.stat(key)).toEqual({ bytes: png.byteLength, contentType: 'image/png' });
    const blob = await storage.createReadStream(key);
    expect(blob?.bytes).toBe(png.byteLength);
    expect((await buffer(blob!.stream)).equals(png)).toBe(true);
    // The prefix is part of the object key in the bucket.
    expect(server.stats.recent.some((line) => line.includes(`/${server.bucket}/test-run/${key}`))).toBe(true);
    expect(await storage.delete(key)).toBe(true);
    expect(await storage.delete(key)).toBe(false);
    expect(await storage.get(key)).toBeUndefined();
    expect(await storage.stat(key)).toBeUndefined();
    expect(await storage.createReadStream(key)).toBeUndefined();
  });

  it('refuses bad keys and a content type that contradicts the extension', async () => {
    await expect(storage.put('../escape.png', new Uint8Array(1))).rejects.toBeInstanceOf(StorageKeyError);
    await expect(storage.get('outputs//x.png')).rejects.toBeInstanceOf(StorageKeyError);
    const err = await storage
      .put('outputs/t/j/0.png', new Uint8Array(1), { contentType: 'image/jpeg' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('STORAGE_ERR_WRITE');
  });

  it('uploads a large file in parts and reads it back byte-exact', async () => {
    const big = patterned(13 * 1024 * 1024 + 17, 7);
    const multipart = createS3Storage({
      bucket: server.bucket,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: credentialsOf(server),
      multipartBytes: 5 * 1024 * 1024,
    });
    const key = 'inputs/tenant-a/job-big/0.png';
    const before = server.stats.recent.length;
    await multipart.put(key, big);
    const parts = server.stats.recent.slice(before).filter((line) => /[?&]partNumber=\d+/.test(line));
    expect(parts).toHaveLength(3);
    expect(sha((await multipart.get(key))!.bytes)).toBe(sha(big));
    const blob = await multipart.createReadStream(key);
    expect(blob?.bytes).toBe(big.byteLength);
    expect(sha(await buffer(blob!.stream))).toBe(sha(big));
  });

  it('stores a streamed (aws-chunked) upload decoded, like S3', async () => {
    // A stream body makes the SDK frame it as aws-chunked with a checksum trailer.
    const bytes = patterned(300_000, 11);
    const client = new S3Client({
      region: server.region,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: credentialsOf(server),
    });
    const key = 'uploads/tenant-a/upl_streamed.png';
    await client.send(
      new PutObjectCommand({
        Bucket: server.bucket,
        Key: key,
        Body: Readable.from([Buffer.from(bytes)]),
        ContentLength: bytes.byteLength,
      }),
    );
    const plain = createS3Storage({
      bucket: server.bucket,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: credentialsOf(server),
    });
    const stored = await plain.get(key);
    expect(stored?.bytes.byteLength).toBe(bytes.byteLength);
    expect(sha(stored!.bytes)).toBe(sha(bytes));
    client.destroy();
  });

  it('works with virtual-host addressing (bucket.localhost)', async () => {
    const agent = localhostAgent();
    const vhost = createS3Storage({
      bucket: server.bucket,
      endpoint: server.vhostEndpoint,
      forcePathStyle: false,
      credentials: credentialsOf(server),
      client: { requestHandler: { httpAgent: agent } },
    });
    const png = await makeImage({ width: 20, height: 10, format: 'png' });
    const key = 'outputs/tenant-v/job-v/0.png';
    await vhost.put(key, png);
    expect(server.stats.recent.at(-1)).toMatch(
      new RegExp(`^PUT ${server.bucket}\\.localhost:${server.port} /${key}`),
    );
    expect(Buffer.from((await vhost.get(key))!.bytes).equals(png)).toBe(true);
    const url = await vhost.presignGet!(key, 60);
    expect(new URL(url).hostname).toBe(`${server.bucket}.localhost`);
    const downloaded = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      httpGet(url, { agent }, (res) => {
        void buffer(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
      }).on('error', reject);
    });
    expect(downloaded.status).toBe(200);
    expect(downloaded.body.equals(png)).toBe(true);
    agent.destroy();
  });

  describe('presigned GET URLs', () => {
    const key = 'outputs/tenant-a/job-url/0.webp';
    let webp: Buffer;
    beforeAll(async () => {
      webp = await makeImage({ width: 40, height: 30, format: 'webp' });
      await storage.put(key, webp);
    });

    it('download the object from the store itself', async () => {
      const url = await storage.presignGet!(key, 120);
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('120');
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(webp)).toBe(true);
      const meta = await sharp(body).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 40, 30]);
    });

    it('are refused with 403 when the signature, key or expiry is altered', async () => {
      const url = new URL(await storage.presignGet!(key, 120));
      const sig = url.searchParams.get('X-Amz-Signature')!;
      const tampered = new URL(url);
      tampered.searchParams.set('X-Amz-Signature', `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`);
      // Another tenant's object under the same signature.
      const otherTenant = new URL(url.href.replace('/tenant-a/', '/tenant-b/'));
      const longer = new URL(url);
      longer.searchParams.set('X-Amz-Expires', '600');
      for (const bad of [tampered, otherTenant, longer]) {
        const res = await fetch(bad);
        expect(res.status).toBe(403);
        expect(await res.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
      }
    });

    it('are signed for S3_PUBLIC_ENDPOINT when clients reach the store elsewhere', async () => {
      // The driver talks to 127.0.0.1; clients are told `localhost`, as with compose's `minio:9000`.
      const published = createS3Storage({
        bucket: server.bucket,
        endpoint: server.endpoint,
        publicEndpoint: `http://localhost:${server.port}`,
        forcePathStyle: true,
        prefix: 'test-run',
        credentials: credentialsOf(server),
      });
      const url = await published.presignGet!(key, 60);
      expect(url.startsWith(`http://localhost:${server.port}/${server.bucket}/test-run/${key}?`)).toBe(true);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(webp)).toBe(true);
      // Re-pointing it at the internal host breaks the signature (SigV4 covers the host).
      const moved = url.replace(`//localhost:${server.port}`, `//127.0.0.1:${server.port}`);
      expect((await fetch(moved)).status).toBe(403);
    });

    it('are refused with 403 once expired', async () => {
      const url = await storage.presignGet!(key, 60);
      expect((await fetch(url)).status).toBe(200);
      clock.offsetMs = 61_000;
      try {
        const res = await fetch(url);
        expect(res.status).toBe(403);
        expect(await res.text()).toContain('Request has expired');
      } finally {
        clock = { offsetMs: 0 };
      }
    });
  });

  describe('start-up check', () => {
    it('passes for a reachable bucket with valid credentials', async () => {
      await expect(storage.check()).resolves.toBeUndefined();
    });

    it('names AWS_SECRET_ACCESS_KEY in one line for a wrong secret', async () => {
      const wrong = createS3Storage({
        bucket: server.bucket,
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: credentialsOf(server, 'not-the-secret'),
      });
      const err = (await wrong.check().catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/^AWS_SECRET_ACCESS_KEY: /);
      expect(err.message).not.toContain('\n');
      expect(err.message).not.toContain('not-the-secret');
    });

    it('names S3_BUCKET in one line for a missing bucket', async () => {
      const missing = createStorage(
        {
          STORAGE_DRIVER: 's3',
          STORAGE_DIR: '/nonexistent',
          S3_BUCKET: 'no-such-bucket',
          S3_ENDPOINT: server.endpoint,
          S3_FORCE_PATH_STYLE: true,
        },
        { credentials: credentialsOf(server) },
      );
      const err = (await missing.check().catch((e: unknown) => e)) as Error;
      expect(err.message).toBe(`S3_BUCKET: bucket "no-such-bucket" does not exist at ${server.endpoint}`);
      // Past start-up, a bucket that is gone fails reads instead of passing for an absent blob.
      const read = await missing.get('outputs/t/j/0.png').catch((e: unknown) => e);
      expect(read).toBeInstanceOf(StorageError);
      expect((read as StorageError).code).toBe('STORAGE_ERR_READ');
    });
  });
});
