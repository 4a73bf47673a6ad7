import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { bareAddress } from './ip-address.js';
import { OUTBOUND_ERROR_CODES, OutboundRequestError } from './outbound-error.js';

/**
 * Requests to an address `checkUrl` has already approved. The socket connects to that
 * address and no other: `lookup` is replaced, so there is no second DNS query a
 * rebinding server could answer with 127.0.0.1. The URL's host still goes into the
 * `Host` header and TLS SNI / certificate check, so virtual hosts and HTTPS work as
 * usual. Redirects are never followed (Node's `request` does not), every request gets a
 * fresh connection (`agent: false`: a pooled socket might lead elsewhere), and one
 * timer bounds the whole exchange, including a receiver that accepts and never answers.
 */

/** What `checkUrl` returns on success. */
export interface PinnedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export interface PostPinnedInit {
  headers: Record<string, string>;
  body: string;
  /** Bound on connect + send + response + reading the snippet. Unit: milliseconds. */
  timeoutMs: number;
  /** Aborts the request (job cancelled, shutdown). */
  signal?: AbortSignal;
}

export interface PostPinnedResult {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The first {@link RESPONSE_SNIPPET_BYTES} bytes of the body, for the delivery log. */
  bodySnippet: string;
  /** From the start of the request to the end of the snippet. Unit: milliseconds. */
  durationMs: number;
}

export interface FetchPinnedInit {
  headers?: Record<string, string>;
  /** Bound on the whole exchange, including reading the body. Unit: milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface FetchPinnedResult {
  status: number;
  headers: Record<string, string>;
  /**
   * The response body. Read it (applying your own size limit) or destroy it; it is
   * destroyed with an {@link OutboundRequestError} when the timeout passes first.
   */
  body: Readable;
  /** Until the response headers arrived. Unit: milliseconds. */
  durationMs: number;
}

/** How much of a response body a delivery keeps for its log. Unit: bytes. */
export const RESPONSE_SNIPPET_BYTES = 4_096;

const pinnedLookup =
  (address: string, family: 4 | 6): LookupFunction =>
  (_host, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };

function flattenHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** One deadline for the exchange, linked to the caller's signal. `dispose` in `finally`. */
function deadline(timeoutMs: number, signal: AbortSignal | undefined) {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new OutboundRequestError(`timed out after ${timeoutMs} ms`, OUTBOUND_ERROR_CODES.TIMEOUT),
    );
  }, timeoutMs);
  const onAbort = () =>
    controller.abort(
      new OutboundRequestError('aborted by the caller', OUTBOUND_ERROR_CODES.ABORTED, {
        cause: signal?.reason,
      }),
    );
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** The error to surface: the deadline's own reason when it fired, else a connection error. */
function outboundError(err: unknown, signal: AbortSignal): OutboundRequestError {
  if (signal.aborted && signal.reason instanceof OutboundRequestError) return signal.reason;
  if (err instanceof OutboundRequestError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OutboundRequestError(message, OUTBOUND_ERROR_CODES.CONNECTION, { cause: err });
}

/** Sends the request to the pinned address; resolves with the response once its headers arrive. */
function open(
  target: PinnedTarget,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const { url, address, family } = target;
  const secure = url.protocol === 'https:';
  const hostname = bareAddress(url.hostname);
  const outgoing: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'host' && lower !== 'content-length') outgoing[lower] = value;
  }
  outgoing.host = url.host;
  if (body !== undefined) outgoing['content-length'] = String(Buffer.byteLength(body));

  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const req = (secure ? https : http).request(
      {
        method,
        protocol: url.protocol,
        hostname,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        headers: outgoing,
        agent: false,
        family,
        lookup: pinnedLookup(address, family),
        // SNI must be a name, never an IP literal (RFC 6066).
        ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
      },
      (res) => {
        response = res;
        resolve(res);
      },
    );
    const onAbort = () => {
      response?.destroy(signal.reason);
      req.destroy(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    // Kept for the request's whole life: a late socket error must not go unhandled.
    req.on('error', reject);
    req.end(body);
  });
}

/** The first `limit` bytes of a body as text; the rest is not read. */
async function readSnippet(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  res.destroy();
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** POSTs `body` to the pinned address and reads the status, headers and a body snippet. */
export async function postPinned(target: PinnedTarget, init: PostPinnedInit): Promise<PostPinnedResult> {
  const started = performance.now();
  const limit = deadline(init.timeoutMs, init.signal);
  try {
    const res = await open(target, 'POST', init.headers, init.body, limit.signal);
    const bodySnippet = await readSnippet(res, RESPONSE_SNIPPET_BYTES);
    return {
      status: res.statusCode ?? 0,
      headers: flattenHeaders(res),
      bodySnippet,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    throw outboundError(err, limit.signal);
  } finally {
    limit.dispose();
  }
}

/**
 * GETs the pinned address (input image URLs). The timeout keeps running while the
 * caller reads `body`, so a slow drip cannot hold a worker past it.
 */
export async function fetchPinned(target: PinnedTarget, init: FetchPinnedInit): Promise<FetchPinnedResult> {
  const started = performance.now();
  const limit = deadline(init.timeoutMs, init.signal);
  let res: IncomingMessage;
  try {
    res = await open(target, 'GET', init.headers ?? {}, undefined, limit.signal);
  } catch (err) {
    limit.dispose();
    throw outboundError(err, limit.signal);
  }
  res.once('close', () => limit.dispose());
  // A body destroyed by the deadline emits 'error'; a caller that stopped listening must
  // not crash the worker for it. Readers (for await, pipeline) still see the error.
  res.on('error', () => {});
  return {
    status: res.statusCode ?? 0,
    headers: flattenHeaders(res),
    body: res,
    durationMs: Math.round(performance.now() - started),
  };
}
