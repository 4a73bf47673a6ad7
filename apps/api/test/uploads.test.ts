import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MEGAPIXEL, priceRequest } from '@fluxq/core';
import { recordKeys } from '@fluxq/store';
import { makeImage, waitFor } from '@fluxq/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, fileForm, type TenantClient, tenantClient } from './tenant-client.js';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const TTL_S = 3_600;

let api: ApiHarness;
let a: TenantClient;
let b: TenantClient;
let png: Buffer;

beforeAll(async () => {
  api = await startApi({
    API_KEYS: 'fq_ka:tenantA,fq_kb:tenantB',
    MAX_UPLOAD_FILE_BYTES: String(MAX_FILE_BYTES),
    UPLOAD_TTL_S: String(TTL_S),
  });
  a = tenantClient(api.url, 'fq_ka');
  b = tenantClient(api.url, 'fq_kb');
  png = await makeImage({ width: 320, height: 200, format: 'png' });
});
afterAll(async () => api?.close());

const upload = (client: TenantClient, bytes: Uint8Array, type = 'image/png', name = 'ref.png') =>
  client.postForm('/v1/uploads', fileForm('file', bytes, name, type));

describe('POST /v1/uploads', () => {
  describe('when the file is a PNG within the limits', () => {
    it('stores it once and answers 200 with the upload, expiring after UPLOAD_TTL_S', async () => {
      const response = await upload(a, png);
      expect(response.status).toBe(200);
      const body = response.body;
      expect(body).toMatchObject({
        object: 'upload',
        width: 320,
        height: 200,
        content_type: 'image/png',
      });
      expect(body.id).toMatch(/^upl_[0-9a-z]{25}$/);
      expect(body.bytes).toBeGreaterThan(0);
      expect(body.expires_at - body.created_at).toBe(TTL_S);
      expect(Math.abs(body.created_at - Date.now() / 1000)).toBeLessThan(60);

      const stored = join(api.storageDir, 'uploads', 'tenantA', `${body.id}.png`);
      expect(await sharp(stored).metadata()).toMatchObject({ width: 320, height: 200, format: 'png' });
      expect((await stat(stored)).size).toBe(body.bytes);
      const ttl = await api.client.ttl(recordKeys.upload(body.id));
      expect(ttl).toBeGreaterThan(TTL_S - 60);
      expect(ttl).toBeLessThanOrEqual(TTL_S);

      const again = await a.get(`/v1/uploads/${body.id}`);
      expect(again).toMatchObject({ status: 200, body });
    });

    it('applies the input rules: an image over 4 MP is stored at 4 MP, as JPEG', async () => {
      const big = await makeImage({ width: 2600, height: 2000, format: 'jpeg' });
      const response = await upload(a, big, 'image/jpeg', 'big.jpg');
      expect(response.status).toBe(200);
      expect(response.body.content_type).toBe('image/jpeg');
      expect(response.body.width * response.body.height).toBeLessThanOrEqual(4 * MEGAPIXEL);
      expect(response.body.width / response.body.height).toBeCloseTo(2600 / 2000, 2);
      await access(join(api.storageDir, 'uploads', 'tenantA', `${response.body.id}.jpg`));
    });
  });

  describe('when the request is not an acceptable image upload', () => {
    it('answers 415 for a TIFF, sniffed by content whatever its name and type say', async () => {
      const tiff = await makeImage({ width: 64, height: 64, format: 'tiff' });
      const response = await upload(a, tiff, 'image/png', 'looks-like.png');
      expect(response.status).toBe(415);
      expect((response.body as ErrorBody).error).toMatchObject({
        code: 'unsupported_image_type',
        param: 'file',
      });
    });

    it('answers 413 for a file over MAX_UPLOAD_FILE_BYTES, and stores nothing', async () => {
      const before = await readdir(join(api.storageDir, 'uploads', 'tenantA')).catch(() => []);
      const oversized = Buffer.concat([png, Buffer.alloc(MAX_FILE_BYTES + 1 - png.length)]);
      const response = await upload(a, oversized);
      expect(response.status).toBe(413);
      expect((response.body as ErrorBody).error).toMatchObject({ code: 'payload_too_large', param: 'file' });
      expect(await readdir(join(api.storageDir, 'uploads', 'tenantA')).catch(() => [])).toEqual(before);
    });

    it('answers 400 when the form has no "file" field', async () => {
      const form = new FormData();
      form.append('purpose', 'vision');
      const response = await a.postForm('/v1/uploads', form);
      expect(response.status).toBe(400);
      expect((response.body as ErrorBody).error).toMatchObject({ code: 'missing_parameter', param: 'file' });
    });

    it('answers 400 when the file comes in another field, or two files are sent', async () => {
      const other = await a.postForm('/v1/uploads', fileForm('image', png, 'a.png', 'image/png'));
      expect(other.status).toBe(400);
      const two = fileForm('file', png, 'a.png', 'image/png');
      two.append('file', new Blob([png], { type: 'image/png' }), 'b.png');
      const twice = await a.postForm('/v1/uploads', two);
      expect(twice.status).toBe(400);
      expect((twice.body as ErrorBody).error.param).toBe('file');
    });

    it('answers 415 for a body that is not multipart', async () => {
      const response = await a.post('/v1/uploads', { file: 'x' });
      expect(response.status).toBe(415);
      expect((response.body as ErrorBody).error.code).toBe('unsupported_content_type');
    });

    it('answers 401 without a key', async () => {
      expect((await upload(tenantClient(api.url), png)).status).toBe(401);
    });
  });
});

describe('GET /v1/uploads/{id}', () => {
  it("answers 404 for another tenant's upload, exactly as for an unknown id", async () => {
    const { body } = await upload(a, png);
    const theirs = await b.get(`/v1/uploads/${body.id}`);
    const unknown = await b.get('/v1/uploads/upl_0000000000000000000000000');
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect((theirs.body as ErrorBody).error.code).toBe('upload_not_found');
    expect((unknown.body as ErrorBody).error.code).toBe('upload_not_found');
  });

  it('answers 404 once the upload has expired', async () => {
    const { body } = await upload(a, png);
    // Expiry is Redis's TTL (checked above against UPLOAD_TTL_S); bring it forward.
    await api.client.pexpire(recordKeys.upload(body.id), 1);
    await waitFor(async () => (await a.get(`/v1/uploads/${body.id}`)).status === 404, {
      message: 'the upload to expire',
    });
    const job = await a.post('/v1/jobs', { prompt: 'p', images: [body.id] });
    expect(job.status).toBe(400);
    expect((job.body as ErrorBody).error.message).toContain(body.id);
  });
});

describe('an upload id in POST /v1/jobs', () => {
  it('references the stored upload from every job that uses it, without copying the bytes', async () => {
    const { body: uploaded } = await upload(a, png);
    const first = await a.post('/v1/jobs', { prompt: 'make it autumn', images: [uploaded.id] });
    const second = await a.post('/v1/jobs', {
      prompt: 'make it winter',
      image: uploaded.id,
      size: '1024x1024',
    });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);

    const key = `uploads/tenantA/${uploaded.id}.png`;
    for (const job of [first.body, second.body]) {
      const record = await api.deps.store.get(job.id);
      expect(record?.input.images).toEqual([
        { kind: 'stored', key, width: 320, height: 200, content_type: 'image/png', bytes: uploaded.bytes },
      ]);
      expect(job.input.images[0]).toMatchObject({ width: 320, height: 200 });
      expect(job.input.images[0].url).toContain(`/v1/files/${key}?`);
      // No per-job copy of the input.
      await expect(access(join(api.storageDir, 'inputs', 'tenantA', job.id))).rejects.toThrow();
    }
    // The edit keeps the upload's aspect ratio and is priced with its size.
    expect(first.body.input).toMatchObject({ width: 1296, height: 816 });
    expect(first.body.cost).toEqual(
      priceRequest({
        model: 'flux.2-dev-turbo',
        references: [{ width: 320, height: 200 }],
        output: { width: 1296, height: 816 },
        n: 1,
      }),
    );
    // The signed input URL serves the upload's bytes.
    const signed = new URL(first.body.input.images[0].url);
    const file = await fetch(`${api.url}${signed.pathname}${signed.search}`);
    expect(file.status).toBe(200);
    expect(Number(file.headers.get('content-length'))).toBe(uploaded.bytes);
  });

  it('answers 400 invalid_image naming an unknown upload id', async () => {
    const id = 'upl_0000000000000000000000000';
    const response = await a.post('/v1/jobs', { prompt: 'p', images: [id] });
    expect(response.status).toBe(400);
    expect((response.body as ErrorBody).error).toMatchObject({ code: 'invalid_image', param: 'images' });
    expect((response.body as ErrorBody).error.message).toContain(id);
  });

  it("answers 400 for another tenant's upload id, and creates no job", async () => {
    const { body: uploaded } = await upload(a, png);
    const before = await api.client.zcard(recordKeys.tenantJobs('tenantB'));
    const response = await b.post('/v1/jobs', { prompt: 'p', images: [uploaded.id] });
    expect(response.status).toBe(400);
    expect((response.body as ErrorBody).error.message).toContain(uploaded.id);
    expect(await api.client.zcard(recordKeys.tenantJobs('tenantB'))).toBe(before);
  });
});
