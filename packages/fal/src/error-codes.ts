/**
 * Error codes, separate from the classes so code that only sees serialized errors
 * (Redis, logs) can classify them without importing the class hierarchy.
 */

export const FAL_ERROR_CODES = {
  VALIDATION: 'FAL_ERR_VALIDATION',
  AUTH: 'FAL_ERR_AUTH',
  NOT_FOUND: 'FAL_ERR_NOT_FOUND',
  RATE_LIMITED: 'FAL_ERR_RATE_LIMITED',
  USER_TIMEOUT: 'FAL_ERR_USER_TIMEOUT',
  TRANSIENT: 'FAL_ERR_TRANSIENT',
  TRANSPORT: 'FAL_ERR_TRANSPORT',
  TIMEOUT: 'FAL_ERR_TIMEOUT',
  CONTENT_FILTERED: 'FAL_ERR_CONTENT_FILTERED',
  PROTOCOL: 'FAL_ERR_PROTOCOL',
} as const;

export type FalErrorCode = (typeof FAL_ERROR_CODES)[keyof typeof FAL_ERROR_CODES];

const KNOWN_CODES = new Set<string>(Object.values(FAL_ERROR_CODES));
const CODE_BY_NAME: Record<string, FalErrorCode> = {
  FalValidationError: FAL_ERROR_CODES.VALIDATION,
  FalAuthError: FAL_ERROR_CODES.AUTH,
  FalNotFoundError: FAL_ERROR_CODES.NOT_FOUND,
  FalRateLimitedError: FAL_ERROR_CODES.RATE_LIMITED,
  FalUserTimeoutError: FAL_ERROR_CODES.USER_TIMEOUT,
  FalTransientError: FAL_ERROR_CODES.TRANSIENT,
  FalTransportError: FAL_ERROR_CODES.TRANSPORT,
  FalContentFilteredError: FAL_ERROR_CODES.CONTENT_FILTERED,
  FalProtocolError: FAL_ERROR_CODES.PROTOCOL,
};

/**
 * The fal error code of a live error or of a plain object that went through JSON/Redis:
 * a known `code` wins (it distinguishes timeout from transport), else the class `name`.
 */
export function falErrorCodeOf(err: unknown): FalErrorCode | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, name } = err as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && KNOWN_CODES.has(code)) return code as FalErrorCode;
  return typeof name === 'string' ? CODE_BY_NAME[name] : undefined;
}
