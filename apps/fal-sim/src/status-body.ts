import type { SimRequest } from './request-store.js';
import type { RequestStatus } from './types.js';

/** The URLs fal hands back; they use only owner/app, never the endpoint's sub-path (fal.md §2.1). */
export function requestUrls(request: Pick<SimRequest, 'baseUrl' | 'appPath' | 'id'>) {
  const responseUrl = `${request.baseUrl}/${request.appPath}/requests/${request.id}`;
  return {
    response_url: responseUrl,
    status_url: `${responseUrl}/status`,
    cancel_url: `${responseUrl}/cancel`,
  };
}

export interface StatusBody {
  status: RequestStatus;
  request_id: string;
  response_url: string;
  status_url: string;
  cancel_url: string;
  queue_position?: number;
  logs: SimRequest['logs'] | null;
  metrics: { inference_time?: number };
  error?: string;
  error_type?: string;
}

/** A status response: `queue_position` only while queued; `error`/`error_type` on a failed COMPLETED. */
export function statusBody(
  request: SimRequest,
  queuePosition: number | undefined,
  withLogs: boolean,
): StatusBody {
  const body: StatusBody = {
    status: request.status,
    request_id: request.id,
    ...requestUrls(request),
    logs: withLogs ? [...request.logs] : null,
    metrics: {},
  };
  if (request.status === 'IN_QUEUE') body.queue_position = queuePosition ?? 0;
  const result = request.result;
  if (result?.inferenceTime !== undefined) body.metrics = { inference_time: result.inferenceTime };
  if (result && !result.ok) {
    body.error = result.error.error;
    if (result.error.errorType) body.error_type = result.error.errorType;
  }
  return body;
}
