import type { Dimensions, FalRequestRef, JobRecord } from '@fluxq/core';
import { falOutputFormat } from '@fluxq/images';

/** fal's input for one chunk of a job (DESIGN §4 mapping; passthrough first so ours win). */
export function falInputFor(
  record: JobRecord,
  size: Dimensions,
  falUrls: string[],
  ref: Pick<FalRequestRef, 'num_images' | 'seed'>,
) {
  const input = record.input;
  return {
    ...input.passthrough,
    prompt: input.prompt,
    image_size: size,
    num_images: ref.num_images,
    seed: ref.seed,
    output_format: falOutputFormat(input.output_format),
    enable_safety_checker: input.enable_safety_checker ?? true,
    ...(input.guidance_scale === undefined ? {} : { guidance_scale: input.guidance_scale }),
    ...(input.enable_prompt_expansion === undefined
      ? {}
      : { enable_prompt_expansion: input.enable_prompt_expansion }),
    ...(input.sync_mode === undefined ? {} : { sync_mode: input.sync_mode }),
    ...(record.operation === 'edit' ? { image_urls: falUrls } : {}),
  };
}
