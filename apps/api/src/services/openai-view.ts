import type { ViewContext } from '@fluxq/core';
import { type ErrorCode, FluxqError, type JobRecord } from '@fluxq/core';
import type { BlobStorage } from '@fluxq/storage';

/**
 * A finished job in the shape of OpenAI's Images API (`ImagesResponse`), so OpenAI
 * clients read it unchanged: `created`, `data[]` with `url` or `b64_json` and
 * `revised_prompt`, plus the `output_format` and `size` fields OpenAI also returns.
 * `id` is our job id, for `GET /v1/jobs/{id}`. OpenAI's token `usage` has no
 * counterpart here, so it is left out.
 */
export interface ImagesResponse {
  created: number;
  data: Array<{ url: string; revised_prompt: string } | { b64_json: string; revised_prompt: string }>;
  id: string;
  output_format: string;
  size: string;
}

export interface OpenAiViewContext extends ViewContext {
  storage: BlobStorage;
}

/** The response of a succeeded job; `b64_json` reads each output from storage. */
export async function toImagesResponse(record: JobRecord, ctx: OpenAiViewContext): Promise<ImagesResponse> {
  const output = record.output;
  if (!output || output.images.length === 0) {
    throw new FluxqError('internal_error', `job ${record.id} succeeded without output images`);
  }
  // The prompt the images were made from: fal's revision when it made one, else ours.
  const revisedPrompt = output.revised_prompt ?? record.input.prompt;
  const data = await Promise.all(
    output.images.map(async (image) => {
      if (record.input.response_format !== 'b64_json') {
        return { url: await ctx.fileUrls.url(image.key, ctx.fileUrlTtlS), revised_prompt: revisedPrompt };
      }
      const blob = await ctx.storage.get(image.key);
      if (!blob)
        throw new FluxqError('internal_error', `an output of job ${record.id} is missing from storage`);
      return { b64_json: Buffer.from(blob.bytes).toString('base64'), revised_prompt: revisedPrompt };
    }),
  );
  const first = output.images[0]!;
  return {
    created: record.completed_at ?? record.created_at,
    data,
    id: record.id,
    output_format: record.input.output_format,
    size: `${first.width}x${first.height}`,
  };
}

/**
 * Job error codes as the error a synchronous call answers with: refusals of the request
 * itself are 400s under their own code, a canceled job 409, fal timing out 504, and any
 * other provider failure 502 (`provider_error`).
 */
const FAILED_JOB_ERRORS: Record<string, ErrorCode> = {
  provider_validation_error: 'provider_validation_error',
  content_filtered: 'content_filtered',
  input_fetch_failed: 'input_fetch_failed',
  provider_timeout: 'provider_timeout',
  canceled: 'job_canceled',
  internal_error: 'internal_error',
};

/** The error envelope for a job that ended `failed` or `canceled`. */
export function failedJobError(record: JobRecord): FluxqError {
  const jobError = record.error;
  if (record.status === 'canceled') {
    return new FluxqError('job_canceled', `job ${record.id} was canceled`);
  }
  const code = (jobError && FAILED_JOB_ERRORS[jobError.code]) ?? 'provider_error';
  const message = jobError?.message ?? 'the job failed';
  return new FluxqError(code, `${message} (job ${record.id})`);
}
