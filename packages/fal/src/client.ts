/**
 * `createFalQueueClient`: submit / status / result / cancel over fetch, plus upload and
 * download. Submit is never retried (a retried POST can pay for a generation twice);
 * reads retry briefly via `withReadRetries`.
 */

import { requestUrl, submitUrl } from './endpoint.js';
import { falErrorFromResponse } from './error-from-response.js';
import { FalContentFilteredError } from './errors.js';
import {
  buildAuthHeaders,
  buildPriorityHeaders,
  buildTimeoutHeaders,
  lowerCaseHeaders,
  REQUEST_ID_HEADER,
} from './headers.js';
import { httpAttempt, readJson, throwIfNotOk } from './http.js';
import { type FalQueueClientOptions, resolveOptions } from './options.js';
import { parseImageOutput, parseStatus, parseSubmit } from './parse.js';
import { type ReadRetryOptions, withReadRetries } from './retry.js';
import { downloadOnce, uploadFile } from './transfer.js';
import type {
  FalCancelOutcome,
  FalDownload,
  FalDownloadOptions,
  FalResult,
  FalStatusResult,
  FalSubmitOptions,
  FalSubmitResult,
  FalUploadOptions,
} from './types.js';

export interface FalCallOptions {
  signal?: AbortSignal;
}

export interface FalQueueClient {
  /** POST the input to the full endpoint id. Never retried internally. */
  submit(endpointId: string, input: object, options?: FalSubmitOptions): Promise<FalSubmitResult>;
  status(
    endpointId: string,
    requestId: string,
    options?: FalCallOptions & { logs?: boolean },
  ): Promise<FalStatusResult>;
  /** Throws the model's error (e.g. FalValidationError) if the request failed, FalContentFilteredError on NSFW flags. */
  result(endpointId: string, requestId: string, options?: FalCallOptions): Promise<FalResult>;
  cancel(endpointId: string, requestId: string, options?: FalCallOptions): Promise<FalCancelOutcome>;
  /** Uploads to fal's CDN and returns the public file URL. Never retried internally. */
  uploadFile(bytes: Uint8Array, options: FalUploadOptions): Promise<string>;
  download(url: string, options?: FalDownloadOptions): Promise<FalDownload>;
}

export function createFalQueueClient(options: FalQueueClientOptions = {}): FalQueueClient {
  const opts = resolveOptions(options);
  const retry: ReadRetryOptions = {
    retries: opts.readRetries,
    baseDelayMs: opts.retryBaseDelayMs,
    maxDelayMs: opts.retryMaxDelayMs,
    retryAfterCapMs: opts.retryAfterCapMs,
  };
  const jsonHeaders = () => ({ accept: 'application/json', ...buildAuthHeaders(opts.key) });

  return {
    async submit(endpointId, input, { webhookUrl, startTimeoutS, priority, headers, signal } = {}) {
      const init: RequestInit = {
        method: 'POST',
        headers: {
          ...lowerCaseHeaders(headers),
          'content-type': 'application/json',
          ...buildPriorityHeaders(priority),
          ...buildTimeoutHeaders(startTimeoutS),
          ...jsonHeaders(),
        },
        body: JSON.stringify(input),
      };
      return httpAttempt({
        fetch: opts.queueFetch,
        operation: 'submit',
        url: submitUrl(opts.baseUrl, endpointId, webhookUrl),
        init,
        timeoutMs: opts.timeouts.submitMs,
        signal,
        handle: async (res) => {
          await throwIfNotOk(res, 'submit');
          const fallback = (suffix: '' | '/status' | '/cancel', id: string) =>
            requestUrl(opts.baseUrl, endpointId, id, suffix);
          return parseSubmit(await readJson(res, 'submit'), fallback);
        },
      });
    },

    status(endpointId, requestId, { signal, logs = false } = {}) {
      const url = `${requestUrl(opts.baseUrl, endpointId, requestId, '/status')}?logs=${logs ? 1 : 0}`;
      const attempt = () =>
        httpAttempt({
          fetch: opts.queueFetch,
          operation: 'status',
          url,
          init: { method: 'GET', headers: jsonHeaders() },
          timeoutMs: opts.timeouts.statusMs,
          signal,
          handle: async (res) => {
            // 202 while queued/running, 200 once completed; both are successes.
            await throwIfNotOk(res, 'status', requestId);
            return parseStatus(await readJson(res, 'status', requestId), requestId);
          },
        });
      return withReadRetries(attempt, retry, signal);
    },

    async result(endpointId, requestId, { signal } = {}) {
      const url = requestUrl(opts.baseUrl, endpointId, requestId, '');
      const attempt = () =>
        httpAttempt({
          fetch: opts.queueFetch,
          operation: 'result',
          url,
          init: { method: 'GET', headers: jsonHeaders() },
          timeoutMs: opts.timeouts.resultMs,
          signal,
          handle: async (res) => {
            await throwIfNotOk(res, 'result', requestId);
            const id = res.headers.get(REQUEST_ID_HEADER) ?? requestId;
            return { requestId: id, data: parseImageOutput(await readJson(res, 'result', id), id) };
          },
        });
      const out = await withReadRetries(attempt, retry, signal);
      const flaggedIndices = (out.data.has_nsfw_concepts ?? []).flatMap((flag, i) => (flag ? [i] : []));
      if (flaggedIndices.length > 0) {
        throw new FalContentFilteredError(
          `fal flagged image(s) ${flaggedIndices.join(', ')} of ${out.data.images.length} as NSFW`,
          { operation: 'result', requestId: out.requestId, flaggedIndices },
        );
      }
      return out;
    },

    cancel(endpointId, requestId, { signal } = {}) {
      const url = requestUrl(opts.baseUrl, endpointId, requestId, '/cancel');
      const attempt = () =>
        httpAttempt({
          fetch: opts.queueFetch,
          operation: 'cancel',
          url,
          init: { method: 'PUT', headers: jsonHeaders() },
          timeoutMs: opts.timeouts.cancelMs,
          signal,
          handle: async (res): Promise<FalCancelOutcome> => {
            const text = await res.text();
            const body = safeJson(text);
            const state =
              typeof body === 'object' && body !== null ? (body as { status?: unknown }).status : undefined;
            // fal answers 400 {"status":"ALREADY_COMPLETED"} and 404 NOT_FOUND; neither is a failure of cancel.
            if (state === 'ALREADY_COMPLETED') return 'already_completed';
            if (res.status === 404 || state === 'NOT_FOUND') return 'not_found';
            if (res.ok) return 'requested';
            throw falErrorFromResponse(res.status, res.headers, body ?? text, {
              operation: 'cancel',
              requestId,
            });
          },
        });
      return withReadRetries(attempt, retry, signal);
    },

    uploadFile(bytes, uploadOptions) {
      return uploadFile(opts, bytes, uploadOptions);
    },

    download(url, downloadOptions = {}) {
      return withReadRetries(() => downloadOnce(opts, url, downloadOptions), retry, downloadOptions.signal);
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
