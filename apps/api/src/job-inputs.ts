import {
  type Cost,
  type Dimensions,
  FluxqError,
  knownOutputSize,
  type NormalizedRequest,
  priceRequest,
  type StoredInput,
} from '@fluxq/core';
import { checkUrl, type UrlCheck } from '@fluxq/webhooks';
import type { ApiDeps } from './deps.js';
import { findUpload } from './upload-view.js';

/**
 * A URL check that refuses at submit: an address we never allow, or a name DNS says does
 * not exist. Only a resolver that failed (timeout, SERVFAIL) lets the URL through; the
 * worker checks it again when it connects.
 */
export function refusedNow(checked: UrlCheck): checked is Extract<UrlCheck, { ok: false }> {
  return !checked.ok && checked.dns !== 'unavailable';
}

/** Input URLs must be https unless plain http is allowed (local development and tests). */
export async function checkImageUrl(url: string, param: string, deps: ApiDeps): Promise<void> {
  if (!url.startsWith('https:') && !deps.settings.allowHttpImageUrls) {
    throw new FluxqError('invalid_image_url', `${param}: image URLs must use https`, { param: 'images' });
  }
  // The worker fetches it: refuse now what it would refuse then (private, loopback, metadata…).
  const checked = await checkUrl(url, { allow: deps.webhooks.allow, resolve: deps.webhooks.resolve });
  if (refusedNow(checked)) {
    throw new FluxqError('invalid_image_url', `${param}: the URL is not allowed: ${checked.reason}`, {
      param: 'images',
    });
  }
}

/**
 * The stored input an upload id stands for: the upload's own storage key, so a
 * reference image uploaded once is never copied per job. Unknown, expired and other
 * tenants' ids are all a 400 naming the id.
 */
export async function resolveUpload(
  id: string,
  param: string,
  tenant: string,
  deps: ApiDeps,
): Promise<Extract<StoredInput, { kind: 'stored' }>> {
  const upload = await findUpload(deps, id, tenant);
  if (!upload) {
    throw new FluxqError(
      'invalid_image',
      `${param}: upload ${id} does not exist or has expired; upload the image again with POST /v1/uploads`,
      { param: 'images' },
    );
  }
  return {
    kind: 'stored',
    key: upload.key,
    width: upload.width,
    height: upload.height,
    content_type: upload.content_type,
    bytes: upload.bytes,
  };
}

/**
 * Output size (when it is known before the worker reads inputs) and price. Inputs of
 * unknown size count as 1 MP and an unknown output size as 1024x1024: a quote that the
 * worker replaces with the final price once it has every input.
 */
export function sizeAndCost(
  request: NormalizedRequest,
  references: Array<Dimensions | undefined>,
): { size: Dimensions | undefined; cost: Cost } {
  const size = knownOutputSize(request, references[0]);
  const cost = priceRequest({
    model: request.model,
    references,
    output: size ?? { width: 1024, height: 1024 },
    n: request.n,
  });
  return { size, cost };
}
