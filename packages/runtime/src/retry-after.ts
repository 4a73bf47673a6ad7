/**
 * A server's wait hint as milliseconds: the one parser every fluxq server-side caller uses
 * (fal's answers, webhook receivers'). `retry-after-ms` first (milliseconds; not standard, but
 * some gateways, fal's among them, send it), then `Retry-After` (RFC 9110 §10.2.3) as
 * delay-seconds (`120`, `1.5`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`; one in the
 * past means now, 0). `undefined` when absent or unreadable, so a malformed hint falls back to
 * the caller's own schedule instead of to zero.
 *
 * `header` reads one header by its lower-case name (`(name) => headers.get(name)` for fetch's
 * Headers, `(name) => headers[name]` for node's).
 */
export function parseRetryAfterMs(
  header: (name: 'retry-after-ms' | 'retry-after') => string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = header('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  const text = header('retry-after')?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1_000);
  // Only full dates: Date.parse also reads bare numbers and odd fragments.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
