import { randomBytes } from 'node:crypto';
import { apiErrorFor, FluxqAPIError, FluxqConnectionError, FluxqTimeoutError } from './errors.js';
import { SDK_VERSION } from './version.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:8080` (a trailing `/v1` is accepted too). */
  baseURL: string;
  /** Sent as `Authorization: Bearer …`; omit in local open mode. */
  apiKey?: string;
  /** A fetch implementation (tests, proxies). @defaultValue globalThis.fetch */
  fetch?: FetchLike;
  /** Retries of a retry-safe request, after the first try. @defaultValue 2 */
  maxRetries?: number;
  /** Per try: until the response headers (and, for JSON, the body) arrive. Unit: ms. @defaultValue 60_000 */
  timeoutMs?: number;
  /** Sent with every request. */
  defaultHeaders?: Record<string, string>;
}

/** Per-call overrides. */
export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  maxRetries?: number;
  headers?: Record<string, string>;
}

type Query = Record<string, string | number | boolean | undefined>;

export interface HttpRequest extends RequestOptions {
  method: 'GET' | 'POST';
  path: string;
  query?: Query;
  /** A JSON body (object) or multipart (`FormData`, rebuilt by fetch on every try). */
  body?: unknown;
  /** Generate an `Idempotency-Key` (unless `idempotencyKey` is given) and retry with it. */
  create?: boolean;
  idempotencyKey?: string;
  /** Safe to repeat without a key (a GET, a cancel, a quote). Defaults to true for GET. */
  idempotent?: boolean;
  /** Return the response with its body unread (the timeout then covers the headers only). */
  stream?: boolean;
}

export interface HttpResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

/** Longest `Retry-After` honoured; longer ones are cut to this. Unit: ms. */
export const MAX_RETRY_AFTER_MS = 60_000;
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

/** `idk_` + 24 random bytes, base64url. */
export function newIdempotencyKey(): string {
  return `idk_${randomBytes(24).toString('base64url')}`;
}

/** `Retry-After` as ms (delta-seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

/** Capped exponential backoff with full jitter: uniform in [0, min(max, initial·2^attempt)). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** attempt));
}

function retryableStatus(status: number, code: string | null): boolean {
  return (
    status === 408 || status === 429 || status >= 500 || (status === 409 && code === 'idempotency_in_flight')
  );
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** The transport: URL, headers, timeouts, retries and error mapping. Resources build on it. */
export class HttpClient {
  readonly baseURL: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: FetchLike;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  private readonly defaultHeaders: Record<string, string>;

  constructor(options: ClientOptions) {
    if (!options.baseURL) throw new TypeError('createClient needs a baseURL, e.g. http://127.0.0.1:8080');
    this.baseURL = options.baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.apiKey = options.apiKey;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('no fetch available: pass options.fetch');
    this.fetchImpl = fetchImpl;
    this.maxRetries = options.maxRetries ?? 2;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.defaultHeaders = options.defaultHeaders ?? {};
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.baseURL + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  async request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const idempotencyKey = req.idempotencyKey ?? (req.create ? newIdempotencyKey() : undefined);
    const retrySafe = req.idempotent ?? (req.method === 'GET' || idempotencyKey !== undefined);
    const maxRetries = retrySafe ? (req.maxRetries ?? this.maxRetries) : 0;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `fluxq-sdk/${SDK_VERSION} node/${globalThis.process?.versions?.node ?? 'unknown'}`,
      'x-fluxq-client': `fluxq-sdk-ts/${SDK_VERSION}`,
      ...this.defaultHeaders,
      ...req.headers,
    };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let body: RequestInit['body'];
    if (req.body instanceof FormData) body = req.body;
    else if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    const url = this.url(req.path, req.query);

    for (let attempt = 0; ; attempt++) {
      headers['x-fluxq-retry-count'] = String(attempt);
      let delayMs: number;
      try {
        return await this.once<T>(req, url, { method: req.method, headers, body });
      } catch (err) {
        if (req.signal?.aborted) throw err;
        const retryable =
          err instanceof FluxqAPIError
            ? retryableStatus(err.status, err.code) && err.headers.get('x-should-retry') !== 'false'
            : err instanceof FluxqConnectionError;
        if (!retryable || attempt >= maxRetries) throw err;
        delayMs =
          (err instanceof FluxqAPIError ? parseRetryAfter(err.headers.get('retry-after')) : undefined) ??
          backoffMs(attempt);
      }
      await sleep(delayMs, req.signal);
    }
  }

  /** One try: fetch with a timeout; a non-2xx becomes the matching `FluxqAPIError`. */
  private async once<T>(req: HttpRequest, url: string, init: RequestInit): Promise<HttpResponse<T>> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new FluxqTimeoutError(`${req.method} ${req.path} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => controller.abort(req.signal?.reason);
    if (req.signal?.aborted) onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (err: unknown): never => {
      if (timedOut) throw new FluxqTimeoutError(`${req.method} ${req.path} timed out after ${timeoutMs} ms`);
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      if (err instanceof FluxqAPIError) throw err;
      throw new FluxqConnectionError(`${req.method} ${req.path} failed: ${describe(err)}`, { cause: err });
    };
    let handedOver = false;
    try {
      let response: Response;
      try {
        response = await this.fetchImpl(url, { ...init, signal: controller.signal });
      } catch (err) {
        return fail(err);
      }
      if (!response.ok) {
        const body = await readBody(response).catch(fail);
        throw apiErrorFor({
          status: response.status,
          headers: response.headers,
          body,
          method: req.method,
          path: req.path,
        });
      }
      if (req.stream) {
        // The caller reads the body; our timer must not cut it, but their signal still does.
        handedOver = true;
        clearTimeout(timer);
        return { data: response as T, status: response.status, headers: response.headers };
      }
      const data = (await readBody(response).catch(fail)) as T;
      return { data, status: response.status, headers: response.headers };
    } finally {
      clearTimeout(timer);
      if (!handedOver) req.signal?.removeEventListener('abort', onAbort);
    }
  }
}
