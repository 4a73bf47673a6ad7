import type { AttemptLogEntry } from './attempt-log.js';
import type { JobErrorCode } from './errors.js';
import type { ModelId, Operation } from './models.js';
import type { ImageParams } from './normalize.js';
import type { Cost } from './pricing.js';
import type { Priority } from './request-schema.js';
import type { JobWebhook } from './webhook-events.js';

/** Unix seconds of a ms timestamp: the unit of every `*_at` field clients see. */
export const unixSeconds = (ms: number) => Math.floor(ms / 1000);

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isTerminalStatus = (status: JobStatus) => TERMINAL_JOB_STATUSES.includes(status);

/** Where an input image lives once accepted: our storage (bytes checked) or a URL the worker fetches. */
export type StoredInput =
  | { kind: 'stored'; key: string; width: number; height: number; content_type: string; bytes: number }
  | { kind: 'url'; url: string };

/** The normalized input as stored on a job and shown to clients (no image bytes). */
export interface JobInput extends ImageParams {
  images: StoredInput[];
  /** `WxH`, or null until the first input image has been read (edits from URLs). */
  size: string | null;
  width: number | null;
  height: number | null;
}

export interface OutputImage {
  /** Storage key; the API turns it into a signed URL. */
  key: string;
  width: number;
  height: number;
  content_type: string;
  bytes: number;
}

export interface JobOutput {
  images: OutputImage[];
  seed: number | null;
  revised_prompt: string | null;
}

export interface JobError {
  code: JobErrorCode | string;
  message: string;
}

export interface JobTimings {
  /** Accepted → first attempt started. */
  queue_ms: number | null;
  /** The winning fal request's time: its submit → its result (the failed attempts' time is in `attempt_log`). */
  provider_ms: number | null;
  /** Accepted → finished. */
  total_ms: number | null;
}

/** One fal request made for a job; written before the worker waits on it, so a re-run resumes it. */
export interface FalRequestRef {
  endpoint: string;
  request_id: string;
  /** Which slice of `n` this request produces. */
  chunk: number;
  num_images: number;
  seed: number;
  /** ms timestamp of the submit. */
  submitted_at: number;
  /** A second request for the same chunk, sent because the first ran past the tracked p95. */
  hedge?: boolean;
  /** Lease id of the account-concurrency slot this request holds while in flight at fal. */
  slot?: string;
}

/** A job as kept in the job store. `output.images[].key` become URLs in the API's view. */
export interface JobRecord {
  id: string;
  tenant: string;
  status: JobStatus;
  model: ModelId;
  operation: Operation;
  priority: Priority;
  /** Unix seconds. */
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  input: JobInput;
  output: JobOutput | null;
  error: JobError | null;
  attempts: number;
  batch_id: string | null;
  metadata: Record<string, string>;
  /** Where status events go (`webhook_url`, `webhook_events`); null = no webhooks. Optional on older records. */
  webhook?: JobWebhook | null;
  timings: JobTimings;
  cost: Cost;
  /** Attempts and their fal requests, oldest first; absent on records from before it existed. */
  attempt_log?: AttemptLogEntry[];
  /** Internal: fal requests in flight or done for this job. */
  fal_requests: FalRequestRef[];
  /** Internal: fal CDN URLs of the inputs, uploaded once per job. */
  fal_input_urls: string[];
  /** Internal: ms timestamps for timings. */
  created_ms: number;
  started_ms: number | null;
}

/** Payload of a BullMQ `image` job: references only; the record lives in the job store. */
export interface ImageJobData {
  jobId: string;
  tenant: string;
  /** The tenant's `max_running_jobs` when the job was accepted; unset = no limit. */
  maxRunning?: number;
}
