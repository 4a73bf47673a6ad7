import { describe, expect, it } from 'vitest';
import { createFalQueueClient, FalProtocolError } from '../src/index.js';
import { TEST_KEY, useFalServer } from './fal-server.js';

const serve = useFalServer();

describe('uploadFile', () => {
  it('initiates with the key, then PUTs the bytes to upload_url without the key', async () => {
    const s = await serve((req) => {
      if (req.method === 'POST') {
        return {
          status: 200,
          body: {
            upload_url: `${s.url}/bucket/obj-1?sig=abc`,
            file_url: 'https://v3.fal.media/files/obj-1.png',
          },
        };
      }
      return { status: 200, body: '' };
    });
    const bytes = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    const client = createFalQueueClient({ baseUrl: 'http://127.0.0.1:1', restBaseUrl: s.url, key: TEST_KEY });
    const url = await client.uploadFile(bytes, { contentType: 'image/png', fileName: 'in.png' });

    expect(url).toBe('https://v3.fal.media/files/obj-1.png');
    const [initiate, put] = s.requests;
    expect(initiate?.method).toBe('POST');
    expect(initiate?.url).toBe('/storage/upload/initiate?storage_type=fal-cdn-v3');
    expect(initiate?.headers.authorization).toBe(`Key ${TEST_KEY}`);
    expect(JSON.parse(initiate!.body.toString())).toEqual({ content_type: 'image/png', file_name: 'in.png' });
    expect(put?.method).toBe('PUT');
    expect(put?.url).toBe('/bucket/obj-1?sig=abc');
    expect(put?.headers['content-type']).toBe('image/png');
    expect(put?.headers.authorization).toBeUndefined();
    expect(new Uint8Array(put!.body)).toEqual(bytes);
  });

  it('never retries the initiate POST', async () => {
    const s = await serve(() => ({ status: 503, body: { detail: 'busy' } }));
    const client = createFalQueueClient({ restBaseUrl: s.url, readRetries: 5, retryBaseDelayMs: 1 });
    await expect(
      client.uploadFile(new Uint8Array([1]), { contentType: 'image/png', fileName: 'a.png' }),
    ).rejects.toMatchObject({ code: 'FAL_ERR_TRANSIENT', operation: 'upload' });
    expect(s.requests).toHaveLength(1);
  });

  it('throws FalProtocolError when initiate lacks upload_url', async () => {
    const s = await serve(() => ({ status: 200, body: { file_url: 'x' } }));
    const client = createFalQueueClient({ restBaseUrl: s.url });
    await expect(
      client.uploadFile(new Uint8Array([1]), { contentType: 'image/png', fileName: 'a.png' }),
    ).rejects.toBeInstanceOf(FalProtocolError);
  });
});

describe('download', () => {
  const png = Buffer.alloc(4096, 7);

  it('returns bytes and content type, without sending the key to the CDN', async () => {
    const s = await serve(() => ({ status: 200, headers: { 'content-type': 'image/png' }, body: png }));
    const client = createFalQueueClient({ key: TEST_KEY });
    const out = await client.download(`${s.url}/files/a.png`);
    expect(out.contentType).toBe('image/png');
    expect(Buffer.from(out.bytes).equals(png)).toBe(true);
    expect(s.requests[0]!.headers.authorization).toBeUndefined();
  });

  it.each([
    ['declared by content-length', { 'content-length': String(png.byteLength) }],
    // Chunked transfer: no content-length, so the limit has to hold while streaming.
    ['only visible while streaming', { 'transfer-encoding': 'chunked' }],
  ])('enforces maxBytes when the size is %s', async (_label, headers) => {
    const s = await serve(() => ({
      status: 200,
      headers: { 'content-type': 'image/png', ...headers },
      body: png,
    }));
    const err = await createFalQueueClient({ readRetries: 2 })
      .download(`${s.url}/a.png`, { maxBytes: 1000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FalProtocolError);
    expect(err).toMatchObject({ operation: 'download', message: expect.stringContaining('1000 bytes') });
    expect(s.requests).toHaveLength(1);
  });

  it('retries a 502 from the CDN', async () => {
    const s = await serve((_req, i) => (i === 0 ? { status: 502, body: 'bad' } : { status: 200, body: png }));
    const out = await createFalQueueClient({ retryBaseDelayMs: 1 }).download(`${s.url}/a.png`);
    expect(out.bytes.byteLength).toBe(png.byteLength);
    expect(s.requests).toHaveLength(2);
  });

  it('maps a missing file to FAL_ERR_NOT_FOUND', async () => {
    const s = await serve(() => ({ status: 404, body: 'nope' }));
    await expect(createFalQueueClient().download(`${s.url}/a.png`)).rejects.toMatchObject({
      code: 'FAL_ERR_NOT_FOUND',
      operation: 'download',
    });
  });
});
