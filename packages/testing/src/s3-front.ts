/**
 * The HTTP front of the test S3 server: what real S3 checks and s3rver does not. Every
 * request must carry a valid SigV4 signature (header or presigned query) for the test's
 * key pair, within its expiry; refusals answer like S3 (403 + XML error). The payload hash
 * is checked, `aws-chunked` bodies are decoded, and virtual-host requests
 * (`bucket.localhost:port`) are turned into path-style ones for s3rver behind it.
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsChunkedError, decodeAwsChunked } from './aws-chunked.js';
import { type SigV4Credentials, type SigV4Refusal, verifySigV4 } from './sigv4-verify.js';

export interface S3FrontOptions extends SigV4Credentials {
  /** Where s3rver listens (127.0.0.1). */
  upstreamPort: number;
  /** Hostname suffix of virtual-host requests: `bucket.<vhostSuffix>`. @defaultValue 'localhost' */
  vhostSuffix?: string;
  /** The clock refusals are judged by. @defaultValue Date.now */
  now?: () => number;
}

export interface S3FrontStats {
  /** Requests forwarded to s3rver after their signature checked out. */
  accepted: number;
  /** Requests refused, by S3 error code. */
  refused: Record<string, number>;
  /** The last requests accepted, as `METHOD host target` (what a test can check addressing by). */
  recent: string[];
}

export interface S3Front {
  readonly port: number;
  readonly stats: S3FrontStats;
  close(): Promise<void>;
}

/** Query parameters of presigned URLs: the front checked them, s3rver must not see them. */
const PRESIGN_PARAM = /^X-Amz-/i;
/** Headers that describe the framing or signing of the request as received, not the object. */
const HOP_HEADERS = new Set([
  'host',
  'authorization',
  'content-length',
  'transfer-encoding',
  'connection',
  'x-amz-content-sha256',
  'x-amz-decoded-content-length',
  'x-amz-trailer',
]);

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendError(res: ServerResponse, method: string, { status, code, message }: SigV4Refusal): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  // HEAD answers have no body: the SDK sees only the status, as with real S3.
  res.end(method === 'HEAD' ? undefined : body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The request's path as s3rver wants it (path-style) and the query without presign fields. */
function upstreamTarget(req: IncomingMessage, vhostSuffix: string): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = (q < 0 ? '' : url.slice(q + 1))
    .split('&')
    .filter((pair) => pair !== '' && !PRESIGN_PARAM.test(pair.split('=')[0]!))
    .join('&');
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const bucket = hostname.endsWith(`.${vhostSuffix}`)
    ? hostname.slice(0, -vhostSuffix.length - 1)
    : undefined;
  const fullPath = bucket ? `/${bucket}${path}` : path;
  return query ? `${fullPath}?${query}` : fullPath;
}

export async function startS3Front(options: S3FrontOptions): Promise<S3Front> {
  const vhostSuffix = options.vhostSuffix ?? 'localhost';
  const now = options.now ?? Date.now;
  const stats: S3FrontStats = { accepted: 0, refused: {}, recent: [] };
  const refuse = (res: ServerResponse, method: string, refusal: SigV4Refusal) => {
    stats.refused[refusal.code] = (stats.refused[refusal.code] ?? 0) + 1;
    sendError(res, method, refusal);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const verdict = verifySigV4({ method, url: req.url ?? '/', headers: req.headers }, options, now());
    let body = await readBody(req);
    if (!verdict.ok) return refuse(res, method, verdict);
    if (/^[0-9a-f]{64}$/.test(verdict.payloadHash)) {
      if (createHash('sha256').update(body).digest('hex') !== verdict.payloadHash)
        return refuse(res, method, {
          status: 400,
          code: 'XAmzContentSHA256Mismatch',
          message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
        });
    }
    const encodings = String(req.headers['content-encoding'] ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    if (verdict.payloadHash.startsWith('STREAMING-') || encodings.includes('aws-chunked')) {
      try {
        body = decodeAwsChunked(body);
      } catch (err) {
        if (!(err instanceof AwsChunkedError)) throw err;
        return refuse(res, method, { status: 400, code: 'IncompleteBody', message: err.message });
      }
      const declared = Number(req.headers['x-amz-decoded-content-length']);
      if (Number.isFinite(declared) && declared !== body.byteLength)
        return refuse(res, method, {
          status: 400,
          code: 'IncompleteBody',
          message: 'x-amz-decoded-content-length does not match the decoded body',
        });
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_HEADERS.has(name) || name.startsWith('x-amz-checksum-')) continue;
      if (name === 'content-encoding') {
        const rest = encodings.filter((e) => e !== 'aws-chunked');
        if (rest.length > 0) headers[name] = rest.join(', ');
        continue;
      }
      headers[name] = value;
    }
    headers['content-length'] = String(body.byteLength);
    headers.host = `127.0.0.1:${options.upstreamPort}`;
    stats.accepted += 1;
    stats.recent.push(`${method} ${req.headers.host} ${req.url}`);
    if (stats.recent.length > 200) stats.recent.shift();
    const upstream = request({
      host: '127.0.0.1',
      port: options.upstreamPort,
      method,
      path: upstreamTarget(req, vhostSuffix),
      headers,
    });
    upstream.end(body);
    const [answer] = (await once(upstream, 'response')) as [IncomingMessage];
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendError(res, req.method ?? 'GET', { status: 500, code: 'InternalError', message: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
