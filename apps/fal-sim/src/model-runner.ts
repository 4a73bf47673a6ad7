import { type FileStore, filePath } from './file-store.js';
import { CONTENT_TYPES, EXTENSIONS, type ImageMaker, type ImageSpec } from './image-maker.js';
import { type ImageSource, InputImageError } from './image-source.js';
import { typedOutcome, validationOutcome } from './outcomes.js';
import type { SimRequest } from './request-store.js';
import type { RunOutcome } from './scheduler.js';

export interface ModelRunnerDeps {
  images: ImageMaker;
  loadImages: ImageSource;
  files: FileStore;
}

/**
 * Produces a request's `v4Output` (fal.md §1.7) without `timings`, which the scheduler adds
 * once it knows how long the request ran. Never throws: every failure becomes an outcome.
 */
export function createModelRunner({ images, loadImages, files }: ModelRunnerDeps) {
  return async function run(request: SimRequest): Promise<RunOutcome> {
    const params = request.plan.params;
    if (!params) return { ok: false, error: typedOutcome(500, 'Input was not validated', 'internal_error') };
    const spec: ImageSpec = { width: params.width, height: params.height, format: params.outputFormat };
    const seed = params.seed ?? request.plan.seed;
    try {
      const sources = request.operation === 'edit' ? await loadImages(params.imageUrls) : [];
      const outputs: Buffer[] = [];
      for (let index = 0; index < params.numImages; index++) {
        if (request.plan.nsfw) outputs.push(await images.black(spec));
        else if (request.operation === 'edit') {
          outputs.push(await images.edit(spec, sources, params.prompt, seed, index));
        } else outputs.push(await images.generate(spec, params.prompt, seed, index));
      }
      const contentType = CONTENT_TYPES[spec.format];
      const described = outputs.map((bytes, index) => {
        const fileName = `${request.id.slice(0, 8)}_${index}.${EXTENSIONS[spec.format]}`;
        const url = params.syncMode
          ? `data:${contentType};base64,${bytes.toString('base64')}`
          : request.baseUrl + filePath(files.add(bytes, contentType, fileName, request.fileTtlMs), fileName);
        return {
          url,
          width: spec.width,
          height: spec.height,
          content_type: contentType,
          file_name: fileName,
          file_size: bytes.length,
        };
      });
      return {
        ok: true,
        body: {
          images: described,
          seed,
          has_nsfw_concepts: outputs.map(() => request.plan.nsfw),
          prompt: params.prompt,
        },
      };
    } catch (error) {
      if (error instanceof InputImageError) {
        return {
          ok: false,
          error: validationOutcome([
            {
              loc: ['body', 'image_urls'],
              msg: `${error.message} (image_urls[${error.index}])`,
              type: 'image_load_error',
            },
          ]),
        };
      }
      return {
        ok: false,
        error: typedOutcome(500, `Image generation failed: ${(error as Error).message}`, 'internal_error'),
      };
    }
  };
}
