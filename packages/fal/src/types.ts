/** Shapes returned by the queue client. fal's snake_case is kept only inside `FalImageOutput`. */

import type { FalQueuePriority } from './headers.js';

export interface FalSubmitOptions {
  /** Sent as the `fal_webhook` query parameter (putting it in the input does nothing). */
  webhookUrl?: string;
  /** Start timeout in seconds (`x-fal-request-timeout`), must be > 1. */
  startTimeoutS?: number;
  priority?: FalQueuePriority;
  /** Extra request headers; ours win on conflicts. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface FalSubmitResult {
  requestId: string;
  statusUrl: string;
  responseUrl: string;
  cancelUrl: string;
  /** 0 means next; undefined when fal did not say. */
  queuePosition: number | undefined;
}

export interface FalLogEntry {
  message: string;
  level?: string;
  source?: string;
  timestamp?: string;
}

export interface FalStatusResult {
  /** Unknown values are passed through; treat them as still running. */
  status: 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED' | (string & {});
  queuePosition?: number;
  /** Set on COMPLETED when the request failed. */
  error?: string;
  errorType?: string;
  /** `metrics.inference_time` on COMPLETED, in seconds. */
  inferenceTimeS?: number;
  /** Only when requested with `logs: true`. */
  logs?: FalLogEntry[];
}

export interface FalImageFile {
  url: string;
  width?: number;
  height?: number;
  content_type?: string;
  file_name?: string;
  file_size?: number;
}

/** fal's `v4Output`, shared by all FLUX.2 [dev] endpoints. */
export interface FalImageOutput {
  images: FalImageFile[];
  /** The seed actually used. */
  seed: number;
  has_nsfw_concepts?: boolean[];
  prompt?: string;
  /** Opaque; don't depend on its keys. */
  timings?: unknown;
}

export interface FalResult {
  /** From `x-fal-request-id` when present, else the id asked for. */
  requestId: string;
  data: FalImageOutput;
}

export type FalCancelOutcome = 'requested' | 'already_completed' | 'not_found';

export interface FalUploadOptions {
  contentType: string;
  fileName: string;
  signal?: AbortSignal;
}

export interface FalDownloadOptions {
  signal?: AbortSignal;
  /** Size limit, in bytes. @defaultValue the client's `maxDownloadBytes` */
  maxBytes?: number;
}

export interface FalDownload {
  bytes: Uint8Array;
  contentType: string;
}
