/**
 * AWS Signature Version 4 verification, as S3 does it, for the test S3 front (s3rver checks
 * no signature at all). Written from the SigV4 specification, apart from the SDK's signer,
 * so the SDK and this check can disagree: a test passing means real S3 would accept too.
 *
 * Covers header-signed requests (`Authorization: AWS4-HMAC-SHA256 …`) and presigned query
 * URLs (`X-Amz-Algorithm=AWS4-HMAC-SHA256&…`), with the expiry rules S3 applies.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface SigV4Request {
  method: string;
  /** The raw request target: path as sent plus query string. */
  url: string;
  /** Node's lower-cased request headers. */
  headers: Record<string, string | string[] | undefined>;
}

/** S3's answer to a refused request: its status and error code. */
export interface SigV4Refusal {
  status: number;
  code: string;
  message: string;
}

export type SigV4Verdict =
  | { ok: true; mode: 'header' | 'query'; payloadHash: string }
  | ({ ok: false } & SigV4Refusal);

/** S3 refuses a header-signed request whose X-Amz-Date is further than this from its clock. */
const MAX_SKEW_MS = 15 * 60_000;
/** Longest presigned URL lifetime S3 accepts. */
const MAX_EXPIRES_S = 604_800;

const refuse = (status: number, code: string, message: string): SigV4Verdict => ({
  ok: false,
  status,
  code,
  message,
});

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
function strictEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    return [decodeURIComponent(key.replace(/\+/g, '%20')), decodeURIComponent(value.replace(/\+/g, '%20'))];
  });
}

function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [strictEncode(k), strictEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: SigV4Request['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ');
}

/** `20260101T000000Z` → ms since the epoch; NaN when malformed. */
function parseAmzDate(text: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');

function signature(secret: string, scope: string[], stringToSign: string): string {
  const [date, region, service, terminator] = scope as [string, string, string, string];
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, service, terminator]) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}

interface Parsed {
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string | undefined;
  payloadHash: string;
  /** Query pairs that go into the canonical query (X-Amz-Signature left out). */
  query: Array<[string, string]>;
}

export function verifySigV4(req: SigV4Request, creds: SigV4Credentials, now = Date.now()): SigV4Verdict {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  let pairs: Array<[string, string]>;
  try {
    pairs = parseQuery(q < 0 ? '' : req.url.slice(q + 1));
  } catch {
    return refuse(400, 'InvalidArgument', 'Malformed query string');
  }
  const param = (name: string) => pairs.find(([k]) => k === name)?.[1];
  const auth = headerValue(req.headers, 'authorization');
  const presigned = param('X-Amz-Algorithm') !== undefined;

  let parsed: Parsed;
  if (presigned) {
    if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
      return refuse(400, 'AuthorizationQueryParametersError', 'Only AWS4-HMAC-SHA256 is supported');
    const [credential, signedHeaders, sig, amzDate, expires] = [
      'X-Amz-Credential',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
      'X-Amz-Date',
      'X-Amz-Expires',
    ].map(param);
    if (!credential || !signedHeaders || !sig || !amzDate || !expires)
      return refuse(400, 'AuthorizationQueryParametersError', 'Query-string authentication is incomplete');
    const expiresS = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN;
    if (!(expiresS >= 1 && expiresS <= MAX_EXPIRES_S))
      return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be 1 to 604800 seconds');
    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt)) return refuse(400, 'AuthorizationQueryParametersError', 'Bad X-Amz-Date');
    // Checked before the signature like S3 does it; the tests check a stale forgery separately.
    if (now > signedAt + expiresS * 1000) return refuse(403, 'AccessDenied', 'Request has expired');
    if (signedAt > now + MAX_SKEW_MS) return refuse(403, 'AccessDenied', 'Request is not valid yet');
    parsed = {
      credential,
      signedHeaders,
      signature: sig,
      amzDate,
      payloadHash: 'UNSIGNED-PAYLOAD',
      query: pairs.filter(([k]) => k !== 'X-Amz-Signature'),
    };
  } else if (auth) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
    if (!m) return refuse(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
    const amzDate = headerValue(req.headers, 'x-amz-date');
    const signedAt = parseAmzDate(amzDate);
    if (Number.isNaN(signedAt)) return refuse(403, 'AccessDenied', 'X-Amz-Date is missing or malformed');
    if (Math.abs(now - signedAt) > MAX_SKEW_MS)
      return refuse(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the server time is too large',
      );
    const payloadHash = headerValue(req.headers, 'x-amz-content-sha256');
    if (!payloadHash) return refuse(400, 'InvalidRequest', 'Missing x-amz-content-sha256');
    parsed = {
      credential: m[1]!,
      signedHeaders: m[2]!,
      signature: m[3]!,
      amzDate,
      payloadHash,
      query: pairs,
    };
  } else {
    return refuse(403, 'AccessDenied', 'Anonymous access is not allowed');
  }

  const scope = parsed.credential.split('/');
  if (scope.length !== 5) return refuse(400, 'AuthorizationHeaderMalformed', 'Malformed credential scope');
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  if (accessKeyId !== creds.accessKeyId)
    return refuse(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records',
    );
  if (
    region !== creds.region ||
    service !== 's3' ||
    terminator !== 'aws4_request' ||
    !parsed.amzDate?.startsWith(date)
  )
    return refuse(
      400,
      'AuthorizationHeaderMalformed',
      `The credential scope is wrong; expecting region ${creds.region}`,
    );
  const signedNames = parsed.signedHeaders.split(';');
  if (!signedNames.includes('host'))
    return refuse(400, 'AuthorizationHeaderMalformed', 'host must be signed');
  const canonicalHeaders = signedNames
    .map((name) => `${name}:${headerValue(req.headers, name) ?? ''}\n`)
    .join('');
  const canonicalRequest = [
    req.method.toUpperCase(),
    path,
    canonicalQuery(parsed.query),
    canonicalHeaders,
    parsed.signedHeaders,
    parsed.payloadHash,
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    parsed.amzDate,
    scope.slice(1).join('/'),
    sha256Hex(canonicalRequest),
  ].join('\n');
  const expected = signature(creds.secretAccessKey, scope.slice(1), stringToSign);
  if (!sameHex(expected, parsed.signature))
    return refuse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided',
    );
  return { ok: true, mode: presigned ? 'query' : 'header', payloadHash: parsed.payloadHash };
}
