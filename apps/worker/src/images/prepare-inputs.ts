import type { Dimensions, JobRecord, StoredInput } from '@fluxq/core';
import { storeInputImage } from '@fluxq/images';
import type { ProcessorDeps } from '../deps.js';
import { fetchImageUrl } from './fetch-image-url.js';

export interface PreparedInputs {
  /** fal CDN URLs, in input order. */
  falUrls: string[];
  /** Sizes of the inputs as sent (after the 4 MP cap). */
  dimensions: Dimensions[];
}

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/**
 * Makes every input of a job available to fal, once: URL inputs are fetched, checked
 * and copied into our storage; every input is uploaded to fal's CDN. Both results are
 * written to the job record so a retry or a resumed job does neither again.
 */
export async function prepareInputs(
  record: JobRecord,
  deps: ProcessorDeps,
  signal?: AbortSignal,
): Promise<PreparedInputs> {
  const images: StoredInput[] = [...record.input.images];
  const falUrls = [...record.fal_input_urls];
  let changed = false;

  for (const [index, image] of images.entries()) {
    let stored = image;
    if (stored.kind === 'url') {
      const bytes = await fetchImageUrl(stored.url, deps.settings.imageFetch, signal);
      stored = await storeInputImage(bytes, {
        storage: deps.storage,
        tenant: record.tenant,
        jobId: record.id,
        index,
        limits: deps.settings.inputLimits,
      });
      images[index] = stored;
      changed = true;
    }
    if (falUrls[index] === undefined) {
      const blob = await deps.storage.get(stored.key);
      if (!blob) throw new Error(`input ${index} of ${record.id} is missing from storage`);
      falUrls[index] = await deps.fal.uploadFile(blob.bytes, {
        contentType: stored.content_type,
        fileName: `${index}.${EXTENSIONS[stored.content_type] ?? 'png'}`,
        signal,
      });
      changed = true;
    }
  }

  if (changed) {
    await deps.store.update(record.id, { input: { ...record.input, images }, fal_input_urls: falUrls });
    record.input.images = images;
    record.fal_input_urls = falUrls;
  }
  const dimensions = images.map((image) => {
    if (image.kind !== 'stored') throw new Error('unreachable: every input is stored by now');
    return { width: image.width, height: image.height };
  });
  return { falUrls, dimensions };
}
