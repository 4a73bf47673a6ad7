/**
 * Every error the worker raises of its own, with a stable `code` (as fal's errors have:
 * packages/fal/src/errors.ts). Failures are classified by code, never by class or name, since
 * an error may come back from Redis as a plain object (BullMQ's failed reason, a job record).
 */
export const WORKER_ERROR_CODES = {
  /** fal is failing for the model and the breaker is open: wait, do not spend an attempt. */
  BREAKER_OPEN: 'WORKER_ERR_BREAKER_OPEN',
  /** The job was canceled while its attempt ran. */
  JOB_CANCELED: 'WORKER_ERR_JOB_CANCELED',
  /** An input image URL could not be fetched (network, 5xx, 429): worth another attempt. */
  INPUT_FETCH: 'WORKER_ERR_INPUT_FETCH',
  /** An input image URL answered but can never be used (4xx, too big, wrong scheme, refused address). */
  INPUT_REJECTED: 'WORKER_ERR_INPUT_REJECTED',
} as const;

export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[keyof typeof WORKER_ERROR_CODES];

const CODES: ReadonlySet<string> = new Set(Object.values(WORKER_ERROR_CODES));

abstract class WorkerError extends Error {
  abstract readonly code: WorkerErrorCode;
}

export class BreakerOpenError extends WorkerError {
  override readonly name = 'BreakerOpenError';
  readonly code = WORKER_ERROR_CODES.BREAKER_OPEN;
}

export class JobCanceledError extends WorkerError {
  override readonly name = 'JobCanceledError';
  readonly code = WORKER_ERROR_CODES.JOB_CANCELED;
}

export class InputFetchError extends WorkerError {
  override readonly name = 'InputFetchError';
  readonly code = WORKER_ERROR_CODES.INPUT_FETCH;
}

export class InputRejectedError extends WorkerError {
  override readonly name = 'InputRejectedError';
  readonly code = WORKER_ERROR_CODES.INPUT_REJECTED;
}

/** The worker error code of a live or serialized error, or undefined when it is not one of ours. */
export function workerErrorCodeOf(err: unknown): WorkerErrorCode | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && CODES.has(code) ? (code as WorkerErrorCode) : undefined;
}
