import { FluxqClientError } from '../errors.js';
import { type HttpClient, newIdempotencyKey } from '../http.js';
import { appendField, isBinary, toFilePart } from '../multipart.js';
import type { ImageEditParams, ImageGenerateParams, ImageReference, ImagesResponse, Job } from '../types.js';
import type { CreateOptions, Jobs, WaitOptions } from './jobs.js';

export interface ImagesCallOptions extends CreateOptions {
  /** How the job is followed when the API hands back a job (202) instead of the images. */
  wait?: Omit<WaitOptions, 'signal'>;
}

/** A replay after the job ended answers its outcome; this bounds a misbehaving server. */
const MAX_ROUNDS = 3;

function referenceText(image: ImageReference): string {
  if (typeof image === 'string') return image;
  return typeof image.image_url === 'string' ? image.image_url : image.image_url.url;
}

/** Edits with a binary image go as multipart: files in `image[]` (the API puts them ahead of text references). */
function editBody(params: ImageEditParams): unknown {
  const { images, ...rest } = params;
  if (!images.some(isBinary)) return params;
  const form = new FormData();
  for (const [name, value] of Object.entries(rest)) appendField(form, name, value);
  images.forEach((image, index) => {
    if (isBinary(image)) {
      const part = toFilePart(image, { fallbackName: `image-${index}` });
      form.append('image[]', part.blob, part.filename);
    } else {
      form.append('image[]', referenceText(image));
    }
  });
  return form;
}

/**
 * OpenAI's Images API (`/v1/images/generations`, `/v1/images/edits`): the call answers
 * with the images once the job has run. The SDK asks the API to wait a little less than
 * the request timeout (`Prefer: wait=N`); when the job outlasts that, it follows the job
 * and asks again with the same `Idempotency-Key`, which replays the answer for that job.
 */
export class Images {
  constructor(
    private readonly http: HttpClient,
    private readonly jobs: Jobs,
  ) {}

  generate(params: ImageGenerateParams, options: ImagesCallOptions = {}): Promise<ImagesResponse> {
    return this.run('/v1/images/generations', params, options);
  }

  /** `images`: URLs, `data:` URIs, `upl_…` ids, or `File`/`Blob`/`Buffer` values (sent as files). */
  edit(params: ImageEditParams, options: ImagesCallOptions = {}): Promise<ImagesResponse> {
    return this.run('/v1/images/edits', editBody(params), options);
  }

  private async run(path: string, body: unknown, options: ImagesCallOptions): Promise<ImagesResponse> {
    const { idempotencyKey = newIdempotencyKey(), wait, ...rest } = options;
    const timeoutMs = rest.timeoutMs ?? this.http.timeoutMs;
    const waitS = Math.floor((timeoutMs * 0.75) / 1000);
    const prefer = waitS >= 1 ? `wait=${waitS}` : 'respond-async';
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const res = await this.http.request<ImagesResponse | Job>({
        ...rest,
        method: 'POST',
        path,
        body,
        headers: { prefer, ...rest.headers },
        idempotencyKey,
      });
      if (res.status !== 202) return res.data as ImagesResponse;
      // Still running: follow the job, then the replay under the same key answers its outcome.
      const job = res.data as Job;
      await this.jobs.wait(job.id, { ...wait, signal: rest.signal });
    }
    throw new FluxqClientError(`${path}: the job ended but the API still answers 202`);
  }
}
