import { checkUrl, fetchPinned } from '@fluxq/webhooks';
import { InputFetchError, InputRejectedError } from '../errors.js';

export interface ImageFetchLimits {
  timeoutMs: number;
  maxBytes: number;
  allowHttp: boolean;
  /** Hosts, IPs or CIDRs that may be fetched although private (local development, tests). */
  allow: readonly string[];
}

/**
 * Downloads an input image URL with a time and size limit, through the SSRF guard: the
 * host is resolved once, refused when any address is private, loopback, link-local or
 * metadata (unless allow-listed), and the connection goes to the address that was
 * checked. Network failures throw `InputFetchError` (retryable); a refused URL, an HTTP
 * 4xx, a redirect or an oversized body throw `InputRejectedError` (final).
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
  const checked = await checkUrl(url, { allow: limits.allow });
  if (!checked.ok) {
    // A resolver that failed may answer later; a name that does not exist, or an address we
    // refuse, never becomes fetchable: fail on this attempt rather than after all of them.
    if (checked.dns === 'unavailable') throw new InputFetchError(checked.reason);
    throw new InputRejectedError(`input image URL is not allowed: ${checked.reason}`);
  }
  let response: Awaited<ReturnType<typeof fetchPinned>>;
  try {
    response = await fetchPinned(checked, { timeoutMs: limits.timeoutMs, signal });
  } catch (cause) {
    throw new InputFetchError(`could not fetch input image ${parsed.host}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const { status, headers, body } = response;
  if (status < 200 || status >= 300) {
    body.destroy();
    const message = `input image URL answered HTTP ${status}`;
    if (status >= 500 || status === 429) throw new InputFetchError(message);
    // Redirects are not followed: the target would escape the check above.
    throw new InputRejectedError(message);
  }
  const declared = Number(headers['content-length'] ?? 0);
  if (declared > limits.maxBytes) {
    body.destroy();
    throw new InputRejectedError(`input image is ${declared} bytes; the limit is ${limits.maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > limits.maxBytes) {
        body.destroy();
        throw new InputRejectedError(`input image exceeds ${limits.maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof InputRejectedError) throw cause;
    throw new InputFetchError(`input image download failed: ${(cause as Error).message}`, { cause });
  }
  return Buffer.concat(chunks);
}
