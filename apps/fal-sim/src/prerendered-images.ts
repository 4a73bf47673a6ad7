import type { ImageMaker, ImageSpec } from './image-maker.js';

/**
 * An image maker for benchmarks: each size and format is drawn once and the same bytes are
 * served for every request after, so a figure measures fluxq rather than the sim's sharp
 * rendering. Edit inputs are still fetched and checked first (image-source.ts: an unreadable
 * one is a 422 as before); outputs are no longer a function of the prompt and seed.
 */
export function createPrerenderedImageMaker(base: ImageMaker): ImageMaker {
  const made = new Map<string, Promise<Buffer>>();
  const once = (kind: string, spec: ImageSpec, make: () => Promise<Buffer>) => {
    const key = `${kind} ${spec.width}x${spec.height} ${spec.format}`;
    let image = made.get(key);
    if (!image) {
      image = make();
      // A failed draw is not kept: the next request tries again.
      image.catch(() => made.delete(key));
      made.set(key, image);
    }
    return image;
  };
  return {
    generate: (spec) => once('image', spec, () => base.generate(spec, 'prerendered', 0, 0)),
    edit: (spec) => once('image', spec, () => base.generate(spec, 'prerendered', 0, 0)),
    black: (spec) => once('black', spec, () => base.black(spec)),
  };
}
