/**
 * Endpoint ids and queue URLs. Submit uses the full id; status/result/cancel use only
 * owner/app (`fal-ai/flux-2/turbo/edit` → `fal-ai/flux-2/requests/{id}`), as fal's docs
 * and fal-js's `parseEndpointId` do.
 */

export interface FalEndpointId {
  owner: string;
  app: string;
  /** What follows owner/app, e.g. `turbo/edit`; undefined when absent. */
  path?: string;
}

// Segments are interpolated into URLs, so anything that could change the URL's shape is refused.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export function parseEndpointId(endpointId: string): FalEndpointId {
  const parts = endpointId.split('/');
  const [owner, app, ...rest] = parts;
  if (owner === undefined || app === undefined || !parts.every((p) => SEGMENT.test(p))) {
    throw new TypeError(`Invalid fal endpoint id "${endpointId}": expected owner/app[/path]`);
  }
  return rest.length > 0 ? { owner, app, path: rest.join('/') } : { owner, app };
}

export function submitUrl(baseUrl: string, endpointId: string, webhookUrl?: string): string {
  parseEndpointId(endpointId);
  const query = webhookUrl === undefined ? '' : `?fal_webhook=${encodeURIComponent(webhookUrl)}`;
  return `${baseUrl}/${endpointId}${query}`;
}

/** `suffix` is '' for the result, '/status' or '/cancel'. */
export function requestUrl(
  baseUrl: string,
  endpointId: string,
  requestId: string,
  suffix: '' | '/status' | '/cancel',
): string {
  const { owner, app } = parseEndpointId(endpointId);
  if (requestId.length === 0) throw new TypeError('requestId must not be empty');
  return `${baseUrl}/${owner}/${app}/requests/${encodeURIComponent(requestId)}${suffix}`;
}
