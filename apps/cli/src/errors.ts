import { FluxqAPIError, FluxqConnectionError, FluxqTimeoutError } from '@fluxq/sdk';
import { UsageError } from './args.js';

/** The API's error code (else `http_<status>`) and message. */
export function apiErrorParts(err: FluxqAPIError): { code: string; message: string } {
  const body = (err.body ?? {}) as { error?: { message?: string } };
  return { code: err.code ?? `http_${err.status}`, message: body.error?.message ?? err.message };
}

/** One line saying what went wrong, never a stack trace. */
export function describeError(err: unknown, baseUrl?: string): string {
  if (err instanceof FluxqAPIError) {
    const { code, message } = apiErrorParts(err);
    return `${code}: ${message}${err.requestId ? ` (request ${err.requestId})` : ''}`;
  }
  if (err instanceof FluxqTimeoutError) return `timed out: ${err.message}`;
  if (err instanceof FluxqConnectionError) {
    return `cannot reach the API${baseUrl ? ` at ${baseUrl}` : ''}: ${err.message}`;
  }
  if (err instanceof UsageError) return err.message;
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
