import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Dimensions,
  FAL_MAX_IMAGES_PER_REQUEST,
  type FalRequestRef,
  type JobRecord,
  MODELS,
  splitImageCount,
} from '@fluxq/core';
import { FAL_ERROR_CODES, type FalImageOutput, falErrorCodeOf } from '@fluxq/fal';
import { falOutputFormat } from '@fluxq/images';
import type { ProcessorDeps } from './deps.js';
import { AttemptTimeoutError } from './job-failure.js';

/** The job was canceled while its fal requests were running. */
export class JobCanceledError extends Error {
  override readonly name = 'JobCanceledError';
}

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

/**
 * Submits the fal requests a job still needs (one per chunk of at most 4 images) and
 * records each request id on the job before anything waits on it, so a re-run after
 * a crash resumes those requests instead of paying for new ones.
 */
export async function ensureFalRequests(
  record: JobRecord,
  size: Dimensions,
  falUrls: string[],
  deps: ProcessorDeps,
  signal?: AbortSignal,
): Promise<FalRequestRef[]> {
  const endpoint = MODELS[record.model].falEndpoints[record.operation];
  const refs = [...record.fal_requests];
  // Later chunks get later seeds so parallel requests don't repeat each other's images.
  const baseSeed = record.input.seed ?? refs[0]?.seed ?? randomInt(0, 2 ** 31);
  for (const [chunk, count] of splitImageCount(record.input.n).entries()) {
    if (refs.some((ref) => ref.chunk === chunk)) continue;
    const seed = baseSeed + chunk * FAL_MAX_IMAGES_PER_REQUEST;
    const submitted = await deps.fal.submit(
      endpoint,
      falInputFor(record, size, falUrls, { num_images: count, seed }),
      {
        startTimeoutS: deps.settings.startTimeoutS,
        signal,
      },
    );
    refs.push({
      endpoint,
      request_id: submitted.requestId,
      chunk,
      num_images: count,
      seed,
      submitted_at: deps.now(),
    });
    await deps.store.update(record.id, { fal_requests: refs });
    record.fal_requests = [...refs];
  }
  return refs.sort((a, b) => a.chunk - b.chunk);
}

/** Removes a fal request that can no longer give a result, so the next attempt submits anew. */
async function forgetFalRequest(record: JobRecord, ref: FalRequestRef, deps: ProcessorDeps): Promise<void> {
  record.fal_requests = record.fal_requests.filter((r) => r.request_id !== ref.request_id);
  await deps.store.update(record.id, { fal_requests: record.fal_requests });
}

async function cancelQuietly(ref: FalRequestRef, deps: ProcessorDeps): Promise<void> {
  try {
    await deps.fal.cancel(ref.endpoint, ref.request_id);
  } catch (err) {
    deps.logger.warn({ err, requestId: ref.request_id }, 'fal cancel failed');
  }
}

/**
 * Polls one fal request until it completes and returns its output. A request that
 * finished with an error, vanished (404) or ran past the attempt deadline is dropped
 * from the job (and cancelled at fal when still running) before the error is thrown.
 */
export async function awaitFalResult(
  record: JobRecord,
  ref: FalRequestRef,
  deps: ProcessorDeps,
  options: { deadlineMs: number; signal?: AbortSignal },
): Promise<FalImageOutput> {
  const { fal, settings } = deps;
  for (;;) {
    let status: Awaited<ReturnType<typeof fal.status>>;
    try {
      status = await fal.status(ref.endpoint, ref.request_id, { signal: options.signal });
    } catch (err) {
      if (falErrorCodeOf(err) === FAL_ERROR_CODES.NOT_FOUND) await forgetFalRequest(record, ref, deps);
      throw err;
    }
    if (status.status === 'COMPLETED') {
      try {
        return (await fal.result(ref.endpoint, ref.request_id, { signal: options.signal })).data;
      } catch (err) {
        const code = falErrorCodeOf(err);
        // Transport trouble on the read leaves the result at fal for the next attempt.
        if (code !== FAL_ERROR_CODES.TRANSPORT && code !== FAL_ERROR_CODES.TIMEOUT) {
          await forgetFalRequest(record, ref, deps);
        }
        throw err;
      }
    }
    if ((await deps.store.status(record.id)) === 'canceled') {
      await cancelQuietly(ref, deps);
      throw new JobCanceledError(`job ${record.id} was canceled`);
    }
    if (deps.now() >= options.deadlineMs) {
      await cancelQuietly(ref, deps);
      await forgetFalRequest(record, ref, deps);
      throw new AttemptTimeoutError(
        `fal request ${ref.request_id} did not finish within the attempt timeout`,
      );
    }
    await delay(settings.pollIntervalMs, undefined, { signal: options.signal });
  }
}
