/**
 * The wire contract of the fluxq HTTP API (README "API", DESIGN §5), written out here so
 * the SDK needs no server package. Unix-second timestamps unless a name says otherwise.
 */

export type ModelId = 'flux.2-dev-turbo' | 'flux.2-dev-flash' | 'flux.2-dev' | (string & {});
export type Operation = 'generate' | 'edit';
export type Priority = 'interactive' | 'default' | 'bulk';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
export type OutputFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'avif';
export type ResponseFormat = 'url' | 'b64_json';
export type JobEventType = 'job.started' | 'job.succeeded' | 'job.failed' | 'job.canceled';

/** Statuses after which a job never changes again. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isTerminalJobStatus = (status: JobStatus): boolean => TERMINAL_JOB_STATUSES.includes(status);

/** Binary image values the client sends as multipart files. */
export type BinaryImage = Blob | Uint8Array | ArrayBuffer;
/** An image reference sent as JSON: an `https` URL, a `data:` URI, an `upl_…` id, or `{image_url}`. */
export type ImageReference = string | { image_url: string | { url: string } };

/** Parameters every entry point shares (DESIGN §4). Other scalar keys pass through to fal. */
export interface ImageParams {
  prompt: string;
  model?: ModelId;
  /** `WxH` (each side 512..2048, a multiple of 16) or `W:H`. */
  size?: string;
  aspect_ratio?: string;
  /** `0.5K`, `1K`, `2K`, `4K`, or megapixels. */
  resolution?: string | number;
  /** 1..10. */
  n?: number;
  seed?: number;
  response_format?: ResponseFormat;
  output_format?: OutputFormat;
  output_compression?: number;
  cfg_scale?: number;
  prompt_enhancement?: 'on' | 'off';
  enable_safety_checker?: boolean;
  sync_mode?: boolean;
  /** Up to 16 string pairs, echoed on the job. */
  metadata?: Record<string, string>;
  [passthrough: string]: unknown;
}

/** `POST /v1/jobs`. */
export interface JobCreateParams extends ImageParams {
  /** 0..4 input images; any makes the job an edit. */
  images?: ImageReference[];
  priority?: Priority;
  webhook_url?: string;
  webhook_events?: JobEventType[];
}

/** `POST /v1/images/generations`. */
export interface ImageGenerateParams extends ImageParams {}

/** `POST /v1/images/edits`: references go as JSON; any binary value switches to multipart `image[]`. */
export interface ImageEditParams extends ImageParams {
  /** 1..4 images. */
  images: Array<ImageReference | BinaryImage>;
}

export interface Cost {
  megapixels: number;
  usd: number;
}

export interface JobImage {
  /** A signed, expiring URL. */
  url: string;
  width: number;
  height: number;
  content_type: string;
  bytes: number;
}

/** An input image as the job shows it: a stored copy (signed URL and size) or the URL as given. */
export interface JobInputImage {
  url: string;
  width?: number;
  height?: number;
  content_type?: string;
  bytes?: number;
}

/** The normalized request (no image bytes). */
export interface JobInput {
  prompt: string;
  n: number;
  seed?: number;
  response_format: ResponseFormat;
  output_format: OutputFormat;
  /** `WxH`, or null until the first input image has been read. */
  size: string | null;
  width: number | null;
  height: number | null;
  images: JobInputImage[];
  [field: string]: unknown;
}

export interface Job {
  id: string;
  object: 'job';
  status: JobStatus;
  model: ModelId;
  operation: Operation;
  priority: Priority;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  /** Queued jobs (`GET /v1/jobs/{id}`, job lists, event streams): jobs granted a fal slot before this one; null otherwise. */
  queue_position?: number | null;
  /** Queued jobs: when it should start (unix seconds), from the tracked grant rate; null when unknown. */
  estimated_start_at?: number | null;
  input: JobInput;
  output: { images: JobImage[]; seed: number | null; revised_prompt: string | null } | null;
  error: { code: string; message: string } | null;
  attempts: number;
  batch_id: string | null;
  metadata: Record<string, string>;
  webhook_url: string | null;
  webhook_events: string[] | null;
  timings: JobTimings;
  /** Attempts and their fal requests, oldest first; times in ms since the job was created. */
  attempt_log: AttemptLogEntry[];
  cost: Cost;
}

/** Where a job's time went. Unit: milliseconds. */
export interface JobTimings {
  /** Accepted → first attempt started. */
  queue_ms: number | null;
  /** The winning fal request: submit → result. */
  provider_ms: number | null;
  /** Accepted → finished. */
  total_ms: number | null;
  /** All attempts, failed ones included. */
  attempts_ms: number | null;
  /** Backoff between attempts. */
  retry_wait_ms: number | null;
}

export interface AttemptLogEntry {
  attempt: number;
  /** False when the attempt was lost to a fal outage or a 429 and given back. */
  counted: boolean;
  started_ms: number;
  ended_ms: number | null;
  outcome: 'succeeded' | 'failed' | 'retried' | 'canceled' | null;
  error_code: string | null;
  requests: Array<{
    request_id: string;
    chunk: number;
    hedge: boolean;
    submitted_ms: number;
    running_ms: number | null;
    ended_ms: number | null;
    outcome: 'succeeded' | 'failed' | 'canceled' | 'lost' | 'left' | null;
  }>;
  hedges: Array<{
    chunk: number;
    due_ms: number;
    decision: 'sent' | 'budget_spent' | 'breaker_not_closed' | 'withdrawn' | 'no_slot';
    /** `queued`: the request was still in fal's queue; `slow`: it passed the tracked time-to-result quantile. */
    trigger?: 'queued' | 'slow';
    of_request_id?: string;
  }>;
}

/** `?dry_run=true`: what a request would cost, nothing stored. */
export interface Quote {
  object: 'quote';
  model: ModelId;
  operation: Operation;
  priority: Priority;
  input: {
    images: Array<
      | { source: 'data'; width: number; height: number }
      | { source: 'upload'; id: string; width: number; height: number }
      | { source: 'url'; url: string; width: null; height: null }
    >;
    size: string | null;
    width: number | null;
    height: number | null;
    [field: string]: unknown;
  };
  cost: Cost;
  /** False while a URL input's size is unknown. */
  exact: boolean;
}

/** OpenAI's Images API answer. */
export interface ImagesResponse {
  created: number;
  data: Array<{ url?: string; b64_json?: string; revised_prompt?: string | null }>;
  /** The fluxq job behind the call. */
  id: string;
  output_format?: OutputFormat;
  size?: string;
}

/** A cursor page (`after` = `next_cursor`). */
export interface Page<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
  first_id?: string | null;
  last_id?: string | null;
}

export interface JobListParams {
  /** One status or several (sent comma-separated). */
  status?: JobStatus | JobStatus[];
  batchId?: string;
  /** 1..100, default 20. */
  limit?: number;
  after?: string;
}

export interface Upload {
  id: string;
  object: 'upload';
  width: number;
  height: number;
  content_type: string;
  bytes: number;
  created_at: number;
  expires_at: number;
}

export type BatchStatus =
  | 'validating'
  | 'in_progress'
  | 'completed'
  | 'cancelling'
  | 'cancelled'
  | (string & {});

export interface Batch {
  id: string;
  object: 'batch';
  status: BatchStatus;
  request_counts: { total: number; succeeded: number; failed: number; canceled: number; [k: string]: number };
  /** What the batch's jobs cost so far. */
  cost?: { usd: number; megapixels?: number };
  created_at?: number;
  completed_at?: number | null;
  /** While in progress (`GET /v1/batches/{id}`): when its last job should be done, unix seconds; null otherwise. */
  estimated_completed_at?: number | null;
  metadata?: Record<string, string>;
  webhook_url?: string | null;
  [field: string]: unknown;
}

/** One request of a batch: the job parameters plus your `custom_id` (unique in the batch). */
export interface BatchRequest extends Partial<JobCreateParams> {
  custom_id: string;
}

export interface BatchCreateParams {
  /** Up to 50,000. */
  requests: BatchRequest[];
  /** Applied to every request (a request's own value wins). */
  defaults?: Partial<JobCreateParams>;
  webhook_url?: string;
  metadata?: Record<string, string>;
}

export interface BatchListParams {
  limit?: number;
  after?: string;
}

/** One line of `GET /v1/batches/{id}/results`. */
export interface BatchResult {
  custom_id: string;
  job_id: string;
  status: JobStatus;
  output: Job['output'];
  error: Job['error'];
  [field: string]: unknown;
}

export interface WebhookSecret {
  object: 'webhook_secret';
  secret: string;
  /** While rotating: when the previous secret stops signing; otherwise null. */
  previous_secret_expires_at: number | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  object: 'webhook_delivery';
  event_id: string;
  type: string;
  job_id: string | null;
  url: string;
  status: WebhookDeliveryStatus;
  attempts: Array<{ at: number; status_code: number | null; error: string | null; duration_ms: number }>;
  created_at: number;
  next_attempt_at: number | null;
  completed_at: number | null;
  failure_reason: string | null;
  resends: number;
  [field: string]: unknown;
}

export interface WebhookDeliveryListParams {
  jobId?: string;
  status?: WebhookDeliveryStatus;
  limit?: number;
  after?: string;
}

export interface Usage {
  object: 'usage';
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
  spent_usd: number;
  /** null = no limit (so for every `max_*`). */
  daily_limit_usd: number | null;
  queued_jobs: number;
  max_queued_jobs: number | null;
  running_jobs: number;
  max_running_jobs: number | null;
  requests_per_minute: number | null;
}

/** Windows of `GET /v1/stats`. */
export type StatsWindow = '1h' | '24h' | '7d' | '30d';

export interface StatsParams {
  /** @defaultValue '24h' */
  window?: StatsWindow;
  /** Include each latency figure's histogram buckets. */
  histogram?: boolean;
  /** Admin key only: one tenant's delivered figures (default: every tenant). */
  tenant?: string;
}

/** Quantiles read from a log-bucketed histogram (within 10 %), with the samples it holds. */
export interface LatencyFigure {
  samples: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  histogram?: Array<{ le_ms: number; count: number }>;
}

/** A ratio and the count it is a ratio of (`value` null when that count is 0). */
export interface RateFigure {
  value: number | null;
  samples: number;
}

/** One row of the provider table: a model and operation. */
export interface StatsRow {
  object: 'provider_stats';
  window: StatsWindow;
  model: string;
  operation: 'generate' | 'edit';
  /** fal's side, from every tenant's traffic. */
  provider: {
    requests: number;
    success_rate: RateFigure;
    generation: LatencyFigure;
    time_to_first_byte: LatencyFigure;
  };
  /** What fluxq delivered: the caller's tenant (every tenant for the admin key). */
  delivered: {
    jobs: number;
    succeeded: number;
    failed: number;
    success_rate: RateFigure;
    end_to_end: LatencyFigure;
    hedge_rate: RateFigure;
    retry_rate: RateFigure;
    fal_submits_per_job: RateFigure;
    cost_per_image_usd: RateFigure;
  };
}

export interface StatsList {
  object: 'list';
  window: StatsWindow;
  /** Unix seconds: start of the window's first bucket. */
  since: number;
  /** Whose delivered figures; null = every tenant. */
  tenant: string | null;
  data: StatsRow[];
}
