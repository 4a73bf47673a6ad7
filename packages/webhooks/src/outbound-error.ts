/** Codes of the ways an outbound request can end without an HTTP answer. */
export const OUTBOUND_ERROR_CODES = {
  /** The whole request (connect, send, wait, read) took longer than its `timeoutMs`. */
  TIMEOUT: 'OUTBOUND_ERR_TIMEOUT',
  /** The caller's `signal` was aborted (a job cancelled, a worker shutting down). */
  ABORTED: 'OUTBOUND_ERR_ABORTED',
  /** No HTTP answer: refused, reset, TLS failure, unreachable network. */
  CONNECTION: 'OUTBOUND_ERR_CONNECTION',
} as const;

export type OutboundErrorCode = (typeof OUTBOUND_ERROR_CODES)[keyof typeof OUTBOUND_ERROR_CODES];

/**
 * A pinned request that got no (complete) HTTP answer. Checked by `code` as well as
 * `instanceof`, because it may come back through a queue as plain data.
 */
export class OutboundRequestError extends Error {
  override readonly name = 'OutboundRequestError';

  constructor(
    message: string,
    readonly code: OutboundErrorCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
