/**
 * File transfer: upload to fal's CDN (initiate + PUT) and size-limited output download.
 * Neither the PUT nor the download sends our key: those URLs point at storage/CDN hosts.
 */

import { FalProtocolError } from './errors.js';
import { buildAuthHeaders } from './headers.js';
import { httpAttempt, readJson, throwIfNotOk } from './http.js';
import type { ResolvedFalQueueClientOptions } from './options.js';
import type { FalDownload, FalDownloadOptions, FalUploadOptions } from './types.js';

/** Storage backend fal-js uses for single-part uploads. */
const STORAGE_TYPE = 'fal-cdn-v3';

export async function uploadFile(
  opts: ResolvedFalQueueClientOptions,
  bytes: Uint8Array,
  { contentType, fileName, signal }: FalUploadOptions,
): Promise<string> {
  // Never retried: each initiate mints a new file URL.
  const target = await httpAttempt({
    fetch: opts.fetch,
    operation: 'upload',
    url: `${opts.restBaseUrl}/storage/upload/initiate?storage_type=${STORAGE_TYPE}`,
    init: {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...buildAuthHeaders(opts.key),
      },
      body: JSON.stringify({ content_type: contentType, file_name: fileName }),
    },
    timeoutMs: opts.timeouts.uploadMs,
    signal,
    handle: async (res) => {
      await throwIfNotOk(res, 'upload');
      const body = (await readJson(res, 'upload')) as { upload_url?: unknown; file_url?: unknown } | null;
      if (typeof body?.upload_url !== 'string' || typeof body.file_url !== 'string') {
        throw new FalProtocolError('fal upload initiate answer lacks upload_url/file_url', {
          operation: 'upload',
          status: res.status,
        });
      }
      return { uploadUrl: body.upload_url, fileUrl: body.file_url };
    },
  });
  await httpAttempt({
    fetch: opts.fetch,
    operation: 'upload',
    url: target.uploadUrl,
    init: { method: 'PUT', headers: { 'content-type': contentType }, body: bytes },
    timeoutMs: opts.timeouts.uploadMs,
    signal,
    handle: async (res) => {
      await throwIfNotOk(res, 'upload');
      await res.arrayBuffer();
    },
  });
  return target.fileUrl;
}

/** One download attempt; the size limit is enforced while streaming, not after buffering. */
export function downloadOnce(
  opts: ResolvedFalQueueClientOptions,
  url: string,
  { signal, maxBytes = opts.maxDownloadBytes }: FalDownloadOptions,
): Promise<FalDownload> {
  const tooLarge = (status: number) =>
    new FalProtocolError(`fal download exceeds the limit of ${maxBytes} bytes`, {
      operation: 'download',
      status,
    });
  return httpAttempt({
    fetch: opts.fetch,
    operation: 'download',
    url,
    init: { method: 'GET' },
    timeoutMs: opts.timeouts.downloadMs,
    signal,
    handle: async (res) => {
      await throwIfNotOk(res, 'download');
      const contentType = res.headers.get('content-type') ?? 'application/octet-stream';
      if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
        await res.body?.cancel();
        throw tooLarge(res.status);
      }
      const chunks: Uint8Array[] = [];
      let total = 0;
      const reader = res.body?.getReader();
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel();
          throw tooLarge(res.status);
        }
        chunks.push(value);
      }
      return { bytes: concat(chunks, total), contentType };
    },
  });
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
