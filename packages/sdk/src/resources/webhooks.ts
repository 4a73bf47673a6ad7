import type { HttpClient, RequestOptions } from '../http.js';
import { paginate } from '../pagination.js';
import type { Page, WebhookDelivery, WebhookDeliveryListParams, WebhookSecret } from '../types.js';

/** `/v1/webhooks/deliveries`: the delivery log. */
export class WebhookDeliveries {
  constructor(private readonly http: HttpClient) {}

  async list(
    params: WebhookDeliveryListParams = {},
    options: RequestOptions = {},
  ): Promise<Page<WebhookDelivery>> {
    const res = await this.http.request<Page<WebhookDelivery>>({
      ...options,
      method: 'GET',
      path: '/v1/webhooks/deliveries',
      query: { job_id: params.jobId, status: params.status, limit: params.limit, after: params.after },
    });
    return res.data;
  }

  listAll(
    params: WebhookDeliveryListParams = {},
    options: RequestOptions = {},
  ): AsyncGenerator<WebhookDelivery> {
    return paginate((after) => this.list({ ...params, after }, options), params.after);
  }

  async get(id: string, options: RequestOptions = {}): Promise<WebhookDelivery> {
    const res = await this.http.request<WebhookDelivery>({
      ...options,
      method: 'GET',
      path: `/v1/webhooks/deliveries/${encodeURIComponent(id)}`,
    });
    return res.data;
  }

  /** Sends a delivery that ended again (same `webhook-id`, a fresh retry schedule). Not retried. */
  async resend(id: string, options: RequestOptions = {}): Promise<WebhookDelivery> {
    const res = await this.http.request<WebhookDelivery>({
      ...options,
      method: 'POST',
      path: `/v1/webhooks/deliveries/${encodeURIComponent(id)}/resend`,
    });
    return res.data;
  }
}

/** The tenant's webhook signing secret and delivery log. */
export class Webhooks {
  readonly deliveries: WebhookDeliveries;

  constructor(private readonly http: HttpClient) {
    this.deliveries = new WebhookDeliveries(http);
  }

  /** The `whsec_…` secret to pass to `verifyWebhook`. */
  async secret(options: RequestOptions = {}): Promise<WebhookSecret> {
    const res = await this.http.request<WebhookSecret>({
      ...options,
      method: 'GET',
      path: '/v1/webhooks/secret',
    });
    return res.data;
  }

  /** A new secret; the previous one keeps signing alongside until `previous_secret_expires_at`. Not retried. */
  async rotateSecret(options: RequestOptions = {}): Promise<WebhookSecret> {
    const res = await this.http.request<WebhookSecret>({
      ...options,
      method: 'POST',
      path: '/v1/webhooks/secret/rotate',
    });
    return res.data;
  }
}
