import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileUrls, createLocalStorage, createS3Storage, createUrlSigner } from '../src/index.js';

const signer = createUrlSigner({ secret: 'x'.repeat(32), baseUrl: 'http://127.0.0.1:8080' });
const KEY = 'outputs/tenant-a/job-1/0.png';
let rootDir: string;

beforeAll(async () => {
  rootDir = await mkdtemp(path.join(tmpdir(), 'fluxq-file-urls-'));
});
afterAll(async () => rm(rootDir, { recursive: true, force: true }));

describe('createFileUrls', () => {
  it("hands out the API's HMAC-signed /v1/files URL for local storage", async () => {
    const urls = createFileUrls(createLocalStorage({ rootDir }), signer);
    const url = new URL(await urls.url(KEY, 60));
    expect(url.origin + url.pathname).toBe(`http://127.0.0.1:8080/v1/files/${KEY}`);
    expect(signer.verify(KEY, url.searchParams.get('expires')!, url.searchParams.get('sig')!)).toBe('ok');
  });

  it("hands out the store's presigned GET for S3, signed over bucket, prefix and key", async () => {
    // Presigning is local computation: no request reaches this endpoint.
    const storage = createS3Storage({
      bucket: 'outputs-bucket',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      prefix: 'fluxq',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
    });
    const url = new URL(await createFileUrls(storage, signer).url(KEY, 90));
    expect(url.pathname).toBe(`/outputs-bucket/fluxq/${KEY}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('90');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.search).not.toContain('secret');
  });
});
