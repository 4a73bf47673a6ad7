import { type ClientOptions, HttpClient, type RequestOptions } from './http.js';
import { Batches } from './resources/batches.js';
import { Images } from './resources/images.js';
import { Jobs } from './resources/jobs.js';
import { Uploads } from './resources/uploads.js';
import { Webhooks } from './resources/webhooks.js';
import type { StatsList, StatsParams, Usage } from './types.js';

/** A fluxq API client. Make one per base URL and key, and share it. */
export class FluxqClient {
  readonly jobs: Jobs;
  readonly images: Images;
  readonly batches: Batches;
  readonly uploads: Uploads;
  readonly webhooks: Webhooks;
  private readonly http: HttpClient;

  constructor(options: ClientOptions) {
    this.http = new HttpClient(options);
    this.jobs = new Jobs(this.http);
    this.images = new Images(this.http, this.jobs);
    this.batches = new Batches(this.http);
    this.uploads = new Uploads(this.http);
    this.webhooks = new Webhooks(this.http);
  }

  get baseURL(): string {
    return this.http.baseURL;
  }

  /** `GET /v1/usage`: spend today and the caller's limits. */
  async usage(options: RequestOptions = {}): Promise<Usage> {
    const res = await this.http.request<Usage>({ ...options, method: 'GET', path: '/v1/usage' });
    return res.data;
  }

  /** `GET /v1/stats`: the provider table per model and operation over a window. */
  async stats(params: StatsParams = {}, options: RequestOptions = {}): Promise<StatsList> {
    const res = await this.http.request<StatsList>({
      ...options,
      method: 'GET',
      path: '/v1/stats',
      query: { window: params.window, histogram: params.histogram, tenant: params.tenant },
    });
    return res.data;
  }
}

/**
 * `createClient({ baseURL: 'http://127.0.0.1:8080', apiKey })`. Retry-safe requests (reads,
 * and creates, which carry an `Idempotency-Key`) are retried `maxRetries` times on
 * connection errors, 408, 409 `idempotency_in_flight`, 429 and 5xx.
 */
export function createClient(options: ClientOptions): FluxqClient {
  return new FluxqClient(options);
}
