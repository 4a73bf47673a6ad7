import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsChunkedError, decodeAwsChunked, type S3Server, startS3Server } from '../src/index.js';

// The front must refuse what real S3 refuses: the S3 tests elsewhere prove nothing otherwise.
// Requests are signed here by the AWS SDK's own signer, not by the front's verifier.

/** node:crypto as the SDK signer's hash constructor. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData) =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData) {
    this.hash.update(bytesOf(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

let server: S3Server;
const KEY = 'outputs/tenant-a/job-1/0.png';
const BODY = Buffer.from('exactly these bytes');

const client = (secretAccessKey = server.secretAccessKey, accessKeyId = server.accessKeyId) =>
  new S3Client({
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });

/** A header-signed request by the SDK's SignatureV4, sent with `fetch` after `alter`. */
async function signedFetch(
  options: {
    method?: string;
    path?: string;
    body?: Buffer;
    signingDate?: Date;
    alter?: (req: { path: string; headers: Record<string, string>; body?: Buffer }) => void;
  } = {},
) {
  const signer = new SignatureV4({
    service: 's3',
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const body = options.body;
  const request = {
    method: options.method ?? 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: server.port,
    path: options.path ?? `/${server.bucket}/${KEY}`,
    query: {},
    headers: {
      host: `127.0.0.1:${server.port}`,
      'x-amz-content-sha256': createHash('sha256')
        .update(body ?? '')
        .digest('hex'),
    } as Record<string, string>,
    body,
  };
  const signed = await signer.sign(request, { signingDate: options.signingDate });
  const sent = { path: signed.path, headers: { ...signed.headers } as Record<string, string>, body };
  options.alter?.(sent);
  const { host: _host, ...headers } = sent.headers;
  return fetch(`${server.endpoint}${sent.path}`, { method: request.method, headers, body: sent.body });
}

beforeAll(async () => {
  server = await startS3Server();
  const s3 = client();
  await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: KEY, Body: BODY }));
  s3.destroy();
});

afterAll(async () => {
  await server?.stop();
});

describe('S3 test front: SigV4 on signed requests', () => {
  it('serves a correctly signed request', async () => {
    const res = await signedFetch();
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(BODY)).toBe(true);
  });

  it('refuses an unsigned request with 403 AccessDenied as XML', async () => {
    const res = await fetch(`${server.endpoint}/${server.bucket}/${KEY}`);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses a wrong secret and an unknown access key', async () => {
    const wrongSecret = client('not-the-secret');
    await expect(
      wrongSecret.send(new GetObjectCommand({ Bucket: server.bucket, Key: KEY })),
    ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    const unknownKey = client(server.secretAccessKey, 'AKIAUNKNOWN000000000');
    await expect(
      unknownKey.send(new GetObjectCommand({ Bucket: server.bucket, Key: KEY })),
    ).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
    wrongSecret.destroy();
    unknownKey.destroy();
  });

  it('refuses a request whose path was changed after signing', async () => {
    const res = await signedFetch({
      alter: (req) => {
        req.path = req.path.replace('tenant-a', 'tenant-b');
      },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('refuses a body that does not match the signed payload hash', async () => {
    const res = await signedFetch({
      method: 'PUT',
      path: `/${server.bucket}/outputs/tenant-a/job-2/0.png`,
      body: Buffer.from('signed bytes'),
      alter: (req) => {
        req.body = Buffer.from('other bytes!');
      },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
  });

  it('refuses a request signed 20 minutes ago', async () => {
    const res = await signedFetch({ signingDate: new Date(Date.now() - 20 * 60_000) });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>RequestTimeTooSkewed</Code>');
  });
});

describe('S3 test front: presigned URLs', () => {
  const presign = (options: { expiresIn: number; signingDate?: Date }, key = KEY) => {
    const s3 = client();
    return getSignedUrl(s3, new GetObjectCommand({ Bucket: server.bucket, Key: key }), options).finally(() =>
      s3.destroy(),
    );
  };

  it('serves a fresh presigned URL', async () => {
    const res = await fetch(await presign({ expiresIn: 60 }));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(BODY)).toBe(true);
  });

  it('refuses an altered signature, key or expiry', async () => {
    const url = new URL(await presign({ expiresIn: 60 }));
    const sig = url.searchParams.get('X-Amz-Signature')!;
    const variants = [
      (u: URL) => u.searchParams.set('X-Amz-Signature', sig.replace(/^./, sig[0] === 'a' ? 'b' : 'a')),
      (u: URL) => {
        u.pathname = u.pathname.replace('tenant-a', 'tenant-b');
      },
      (u: URL) => u.searchParams.set('X-Amz-Expires', '3600'),
      (u: URL) => u.searchParams.delete('X-Amz-Signature'),
    ];
    for (const change of variants) {
      const bad = new URL(url);
      change(bad);
      const res = await fetch(bad);
      expect(res.status, bad.href).toBeGreaterThanOrEqual(400);
      expect(res.status, bad.href).toBeLessThan(500);
    }
    expect(server.stats.refused.SignatureDoesNotMatch).toBeGreaterThanOrEqual(3);
  });

  it('refuses an expired presigned URL with 403', async () => {
    const url = await presign({ expiresIn: 60, signingDate: new Date(Date.now() - 61_000) });
    const res = await fetch(url);
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain('Request has expired');
  });
});

describe('aws-chunked decoding', () => {
  it('joins the chunks and drops signatures and trailers', () => {
    const framed = Buffer.from(
      '5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n',
    );
    expect(decodeAwsChunked(framed).toString()).toBe('hello world');
  });

  it('throws on a truncated body', () => {
    expect(() => decodeAwsChunked(Buffer.from('a\r\nshort'))).toThrow(AwsChunkedError);
    expect(() => decodeAwsChunked(Buffer.from('zz\r\n'))).toThrow(AwsChunkedError);
  });
});
