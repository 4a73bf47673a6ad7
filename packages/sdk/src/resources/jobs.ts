import { FluxqAPIError, FluxqTimeoutError } from '../errors.js';
import { type HttpClient, type RequestOptions, sleep } from '../http.js';
import { readServerSentEvents } from '../lines.js';
import { paginate } from '../pagination.js';
import {
  isTerminalJobStatus,
  type Job,
  type JobCreateParams,
  type JobListParams,
  type Page,
  type Quote,
} from '../types.js';

export interface CreateOptions extends RequestOptions {
  /** Reused on every retry, so a retry never creates a second job. @defaultValue `idk_` + random */
  idempotencyKey?: string;
}

export interface WaitOptions {
  /** Give up (with `FluxqTimeoutError`) after this long; the job itself runs on. Unit: ms. @defaultValue 600_000 */
  timeoutMs?: number;
  /** Between reads when the event stream is unavailable. Unit: ms. @defaultValue 1_000 */
  pollIntervalMs?: number;
  signal?: AbortSignal;
  /** Every status the client sees on the way (from the stream or a poll). */
  onUpdate?: (job: Job) => void;
}

/** Errors that no amount of waiting changes: the job is not there, or not ours. */
function isFinalRefusal(err: unknown): boolean {
  return err instanceof FluxqAPIError && (err.status === 401 || err.status === 403 || err.status === 404);
}

const MAX_EARLY_STREAM_ENDS = 3;

function jobListQuery(params: JobListParams, after: string | undefined) {
  const status = Array.isArray(params.status) ? params.status.join(',') : params.status;
  return { status, batch_id: params.batchId, limit: params.limit, after };
}

/** `/v1/jobs`: create, read, list, cancel, and wait for jobs. */
export class Jobs {
  constructor(private readonly http: HttpClient) {}

  /** `POST /v1/jobs` → the queued job (202). With the same `idempotencyKey` and body, the original job. */
  async create(params: JobCreateParams, options: CreateOptions = {}): Promise<Job> {
    const { idempotencyKey, ...rest } = options;
    const res = await this.http.request<Job>({
      ...rest,
      method: 'POST',
      path: '/v1/jobs',
      body: params,
      create: true,
      idempotencyKey,
    });
    return res.data;
  }

  /** `POST /v1/jobs?dry_run=true`: the price and normalized input, nothing created. */
  async quote(params: JobCreateParams, options: RequestOptions = {}): Promise<Quote> {
    const res = await this.http.request<Quote>({
      ...options,
      method: 'POST',
      path: '/v1/jobs',
      query: { dry_run: 'true' },
      body: params,
      idempotent: true,
    });
    return res.data;
  }

  async get(id: string, options: RequestOptions = {}): Promise<Job> {
    const res = await this.http.request<Job>({
      ...options,
      method: 'GET',
      path: `/v1/jobs/${encodeURIComponent(id)}`,
    });
    return res.data;
  }

  /** One page, newest first. A filtered page may hold fewer than `limit` jobs with `has_more`. */
  async list(params: JobListParams = {}, options: RequestOptions = {}): Promise<Page<Job>> {
    const res = await this.http.request<Page<Job>>({
      ...options,
      method: 'GET',
      path: '/v1/jobs',
      query: jobListQuery(params, params.after),
    });
    return res.data;
  }

  /** Every matching job, following `next_cursor` page by page: `for await (const job of jobs.listAll())`. */
  listAll(params: JobListParams = {}, options: RequestOptions = {}): AsyncGenerator<Job> {
    return paginate((after) => this.list({ ...params, after }, options), params.after);
  }

  /** Cancels a queued or running job; a job that already ended comes back unchanged (check `status`). */
  async cancel(id: string, options: RequestOptions = {}): Promise<Job> {
    const res = await this.http.request<Job>({
      ...options,
      method: 'POST',
      path: `/v1/jobs/${encodeURIComponent(id)}/cancel`,
      // Cancelling twice is cancelling once.
      idempotent: true,
    });
    return res.data;
  }

  /**
   * Resolves with the job once it has ended (`succeeded`, `failed` or `canceled`: check
   * `status`). Follows `GET /v1/jobs/{id}/events`; when the stream is unavailable or keeps
   * breaking, polls `GET /v1/jobs/{id}` every `pollIntervalMs`.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Job> {
    const { timeoutMs = 600_000, pollIntervalMs = 1_000, signal, onUpdate } = options;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new FluxqTimeoutError(`job ${id} did not end within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const seen = (job: Job) => {
      onUpdate?.(job);
      return isTerminalJobStatus(job.status);
    };
    try {
      let streaming = true;
      let earlyEnds = 0;
      for (;;) {
        if (streaming) {
          try {
            const job = await this.followEvents(id, controller.signal, seen);
            if (job) return job;
            // The stream ended before the job did (the API restarting): read, then try again.
            if (++earlyEnds >= MAX_EARLY_STREAM_ENDS) streaming = false;
          } catch (err) {
            if (controller.signal.aborted || isFinalRefusal(err)) throw err;
            streaming = false;
          }
        }
        const job = await this.get(id, { signal: controller.signal });
        if (seen(job)) return job;
        await sleep(pollIntervalMs, controller.signal);
      }
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason ?? err;
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The terminal job from the event stream, or undefined when the stream ended first. */
  private async followEvents(
    id: string,
    signal: AbortSignal,
    seen: (job: Job) => boolean,
  ): Promise<Job | undefined> {
    const res = await this.http.request<Response>({
      method: 'GET',
      path: `/v1/jobs/${encodeURIComponent(id)}/events`,
      headers: { accept: 'text/event-stream' },
      stream: true,
      signal,
    });
    const response = res.data;
    if (!response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      await response.body?.cancel().catch(() => undefined);
      throw new TypeError('the job events endpoint did not answer with an event stream');
    }
    for await (const event of readServerSentEvents(response.body, signal)) {
      if (!event.event.startsWith('job.')) continue;
      const job = JSON.parse(event.data) as Job;
      if (seen(job)) return job;
    }
    return undefined;
  }
}
