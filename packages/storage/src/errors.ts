/**
 * Storage errors with stable `name` and `code`, so they can be classified after
 * crossing Redis or a log line as plain objects.
 */

export const STORAGE_ERROR_CODES = {
  WRITE: 'STORAGE_ERR_WRITE',
  READ: 'STORAGE_ERR_READ',
  INVALID_KEY: 'STORAGE_ERR_INVALID_KEY',
} as const;

export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[keyof typeof STORAGE_ERROR_CODES];

export class StorageError extends Error {
  override readonly name: string = 'StorageError';
  readonly code: StorageErrorCode;
  /** The storage key involved, when there is one (keys are not secret). */
  readonly key?: string;

  constructor(code: StorageErrorCode, message: string, options: { key?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options.key;
  }
}

/** A key or key part that could escape the storage root or is otherwise malformed. */
export class StorageKeyError extends StorageError {
  override readonly name = 'StorageKeyError';

  constructor(message: string, key?: string) {
    super(STORAGE_ERROR_CODES.INVALID_KEY, message, { key });
  }
}
