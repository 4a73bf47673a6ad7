import { writeFileAtomic } from './state.js';

/** Thrown when an output URL does not answer 200. */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Fetches `url` (resolved against `baseUrl` when relative) into `path`, atomically: the
 * file appears whole or not at all.
 */
export async function downloadTo(
  url: string,
  path: string,
  options: { baseUrl: string; apiKey?: string; signal?: AbortSignal },
): Promise<number> {
  const absolute = new URL(url, options.baseUrl);
  const sameOrigin = absolute.origin === new URL(options.baseUrl).origin;
  const headers: Record<string, string> =
    sameOrigin && options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  let response: Response;
  try {
    response = await fetch(absolute, { headers, signal: options.signal });
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason ?? err;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new DownloadError(`download of ${absolute.pathname} failed: ${cause ?? (err as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(`download of ${absolute.pathname} answered ${response.status}`, response.status);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  await writeFileAtomic(path, bytes);
  return bytes.byteLength;
}

/** Runs `fn` over `items`, at most `concurrency` at a time; the first error stops new starts and is thrown. */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && !signal?.aborted && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure) throw failure.err;
  signal?.throwIfAborted();
}
