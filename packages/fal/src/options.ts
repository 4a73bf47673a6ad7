/**
 * Client options. Defaults live in `DEFAULTS` and are applied only in `resolveOptions`.
 */

/** Per-call timeouts. Each HTTP attempt gets its own timer; the body read is included. */
export interface FalQueueTimeouts {
  /**
   * Submit POST, in milliseconds. A timeout here is ambiguous: fal may have queued the job.
   * @defaultValue 30_000
   */
  submitMs?: number;
  /** One status poll, in milliseconds. @defaultValue 10_000 */
  statusMs?: number;
  /** One result fetch, in milliseconds. @defaultValue 30_000 */
  resultMs?: number;
  /** One cancel call, in milliseconds. @defaultValue 10_000 */
  cancelMs?: number;
  /** Each of the two upload requests (initiate, then PUT of the bytes), in milliseconds. @defaultValue 120_000 */
  uploadMs?: number;
  /** One output download, in milliseconds. @defaultValue 60_000 */
  downloadMs?: number;
}

export interface FalQueueClientOptions {
  /** Queue API base URL, without trailing slash needed. @defaultValue 'https://queue.fal.run' */
  baseUrl?: string;
  /** Base URL for storage upload initiation. @defaultValue 'https://rest.fal.ai' */
  restBaseUrl?: string;
  /** fal key (`key_id:key_secret`), sent as `Authorization: Key …` to fal hosts only. @defaultValue undefined (no header) */
  key?: string;
  /** fetch implementation, injectable for tests. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * fetch for the queue calls (submit, status, result, cancel) only; uploads and downloads keep
   * `fetch`. The worker passes `createNodeHttpFetch()`, which costs a fraction of fetch's CPU.
   * @defaultValue `fetch`
   */
  queueFetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Per-call timeouts, in milliseconds. @defaultValue see {@link FalQueueTimeouts} */
  timeouts?: FalQueueTimeouts;
  /**
   * In-process retries for reads (status, result, cancel, download) on transport errors and
   * 429/502/503/504. Submit and upload are never retried here. @defaultValue 2
   */
  readRetries?: number;
  /** First backoff step for read retries, in milliseconds (full jitter, doubling). @defaultValue 250 */
  retryBaseDelayMs?: number;
  /** Largest backoff step for read retries, in milliseconds. @defaultValue 2_000 */
  retryMaxDelayMs?: number;
  /**
   * Longest `Retry-After` honoured in process, in milliseconds. A longer hint is not waited out:
   * the error is thrown with `retryAfterMs` so the job-level backoff can use it. @defaultValue 5_000
   */
  retryAfterCapMs?: number;
  /** Default size limit for `download`, in bytes. @defaultValue 52_428_800 (50 MiB) */
  maxDownloadBytes?: number;
}

export interface ResolvedFalQueueClientOptions {
  baseUrl: string;
  restBaseUrl: string;
  key: string | undefined;
  fetch: typeof fetch;
  queueFetch: typeof fetch;
  timeouts: Required<FalQueueTimeouts>;
  readRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  retryAfterCapMs: number;
  maxDownloadBytes: number;
}

const DEFAULT_TIMEOUTS: Required<FalQueueTimeouts> = {
  submitMs: 30_000,
  statusMs: 10_000,
  resultMs: 30_000,
  cancelMs: 10_000,
  uploadMs: 120_000,
  downloadMs: 60_000,
};

const DEFAULTS = {
  baseUrl: 'https://queue.fal.run',
  restBaseUrl: 'https://rest.fal.ai',
  readRetries: 2,
  retryBaseDelayMs: 250,
  retryMaxDelayMs: 2_000,
  retryAfterCapMs: 5_000,
  maxDownloadBytes: 50 * 1024 * 1024,
} as const;

export function resolveOptions(options: FalQueueClientOptions = {}): ResolvedFalQueueClientOptions {
  const defined = <T extends object>(o: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const merged = { ...DEFAULTS, ...defined(options) };
  // Bound late so a test or polyfill that replaces globalThis.fetch after import still applies.
  const fetch: typeof globalThis.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return {
    baseUrl: trimSlash(merged.baseUrl),
    restBaseUrl: trimSlash(merged.restBaseUrl),
    key: options.key || undefined,
    fetch,
    queueFetch: options.queueFetch ?? fetch,
    timeouts: { ...DEFAULT_TIMEOUTS, ...defined(options.timeouts) },
    readRetries: merged.readRetries,
    retryBaseDelayMs: merged.retryBaseDelayMs,
    retryMaxDelayMs: merged.retryMaxDelayMs,
    retryAfterCapMs: merged.retryAfterCapMs,
    maxDownloadBytes: merged.maxDownloadBytes,
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
