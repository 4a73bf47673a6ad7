import { describe, expect, it } from 'vitest';
import { verifySigV4 } from '../src/index.js';

// The worked examples of AWS's "Signature Version 4" S3 documentation (examplebucket,
// AKIAIOSFODNN7EXAMPLE, 2013-05-24): the verifier must agree with S3's own arithmetic.
const creds = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
};
const SIGNED_AT = Date.UTC(2013, 4, 24, 0, 0, 0);

describe('verifySigV4 on AWS documentation examples', () => {
  it('accepts the presigned GET example until it expires, then refuses it', () => {
    const url =
      '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
    const req = { method: 'GET', url, headers: { host: 'examplebucket.s3.amazonaws.com' } };
    expect(verifySigV4(req, creds, SIGNED_AT + 1_000)).toMatchObject({ ok: true, mode: 'query' });
    expect(verifySigV4(req, creds, SIGNED_AT + 86_401_000)).toMatchObject({
      ok: false,
      status: 403,
      code: 'AccessDenied',
    });
    expect(
      verifySigV4({ ...req, url: url.replace('/test.txt', '/other.txt') }, creds, SIGNED_AT),
    ).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(
      verifySigV4({ ...req, headers: { host: 'otherbucket.s3.amazonaws.com' } }, creds, SIGNED_AT),
    ).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('accepts the header-signed GET Object example and refuses it with another secret', () => {
    const req = {
      method: 'GET',
      url: '/test.txt',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-amz-date': '20130524T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
      },
    };
    expect(verifySigV4(req, creds, SIGNED_AT + 60_000)).toMatchObject({ ok: true, mode: 'header' });
    expect(verifySigV4(req, { ...creds, secretAccessKey: 'other' }, SIGNED_AT)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(
      verifySigV4({ ...req, headers: { ...req.headers, range: 'bytes=0-99' } }, creds, SIGNED_AT),
    ).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(verifySigV4(req, { ...creds, region: 'eu-west-1' }, SIGNED_AT)).toMatchObject({
      ok: false,
      code: 'AuthorizationHeaderMalformed',
    });
    expect(verifySigV4(req, creds, SIGNED_AT + 16 * 60_000)).toMatchObject({
      ok: false,
      code: 'RequestTimeTooSkewed',
    });
  });
});
