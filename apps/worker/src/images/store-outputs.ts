import type { JobOutput, JobRecord, OutputImage } from '@fluxq/core';
import type { FalImageOutput } from '@fluxq/fal';
import { convertOutputImage } from '@fluxq/images';
import { outputKey } from '@fluxq/storage';
import type { ProcessorDeps } from '../deps.js';

const EXTENSIONS: Record<string, string> = {
  png: 'png',
  jpeg: 'jpg',
  webp: 'webp',
  gif: 'gif',
  avif: 'avif',
};
const DATA_URI = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s;

async function readImage(url: string, deps: ProcessorDeps, signal?: AbortSignal): Promise<Uint8Array> {
  // `sync_mode` answers carry the image inline.
  const inline = DATA_URI.exec(url);
  if (inline) return Buffer.from(inline[2] ?? '', 'base64');
  return (await deps.fal.download(url, { signal })).bytes;
}

/**
 * Copies fal's images into our storage at once (fal keeps them for a limited time),
 * converted to the requested format, as `outputs/{tenant}/{job}/{i}.{ext}`.
 */
export async function storeOutputs(
  record: JobRecord,
  results: FalImageOutput[],
  deps: ProcessorDeps,
  signal?: AbortSignal,
): Promise<JobOutput> {
  const files = results.flatMap((result) => result.images);
  const images: OutputImage[] = await Promise.all(
    files.map(async (file, index) => {
      const bytes = await readImage(file.url, deps, signal);
      const converted = await convertOutputImage(
        bytes,
        record.input.output_format,
        record.input.output_compression,
      );
      const key = outputKey(record.tenant, record.id, index, EXTENSIONS[converted.format] ?? 'png');
      await deps.storage.put(key, converted.bytes, { contentType: converted.contentType });
      return {
        key,
        width: converted.width,
        height: converted.height,
        content_type: converted.contentType,
        bytes: converted.bytes.length,
      };
    }),
  );
  const first = results[0];
  return { images, seed: first?.seed ?? null, revised_prompt: first?.prompt ?? null };
}
