import { InputFetchError, InputRejectedError } from './job-failure.js';

export interface ImageFetchLimits {
  timeoutMs: number;
  maxBytes: number;
  allowHttp: boolean;
}

/**
 * Downloads an input image URL with a time and size limit. Network failures throw
 * `InputFetchError` (retryable); a refused scheme, an HTTP 4xx or an oversized body
 * throw `InputRejectedError` (final).
 * Note: the SSRF guard (private-address refusal) comes with the webhooks work.
 */
export async function fetchImageUrl(
  url: string,
  limits: ImageFetchLimits,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && !(limits.allowHttp && parsed.protocol === 'http:')) {
    throw new InputRejectedError(`input image URL must use https: ${parsed.protocol}`);
  }
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(parsed, { signal: combined, redirect: 'error' });
  } catch (cause) {
    throw new InputFetchError(`could not fetch input image ${parsed.host}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!response.ok) {
    const message = `input image URL answered HTTP ${response.status}`;
    await response.body?.cancel();
    if (response.status >= 500 || response.status === 429) throw new InputFetchError(message);
    throw new InputRejectedError(message);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > limits.maxBytes) {
    await response.body?.cancel();
    throw new InputRejectedError(`input image is ${declared} bytes; the limit is ${limits.maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body ?? []) {
      total += chunk.byteLength;
      if (total > limits.maxBytes)
        throw new InputRejectedError(`input image exceeds ${limits.maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof Error && cause instanceof InputRejectedError) throw cause;
    throw new InputFetchError(`input image download failed: ${(cause as Error).message}`, { cause });
  }
  return Buffer.concat(chunks);
}
