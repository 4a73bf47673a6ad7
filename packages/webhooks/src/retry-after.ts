/**
 * A `Retry-After` header (RFC 9110 §10.2.3) as a wait in milliseconds: either
 * delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in
 * the past means "now" (0). `undefined` when the header is absent or unreadable, so a
 * malformed hint falls back to the schedule instead of to zero.
 */
export function parseRetryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1_000);
  // Only full dates: Date.parse also reads bare numbers and odd fragments.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
