/**
 * The `Prefer` request header (RFC 7240) as the synchronous images endpoints read it:
 * `respond-async` asks for a 202 with the job instead of waiting, `wait=N` bounds the
 * wait to N seconds. Preferences are hints: unknown or malformed ones are ignored.
 */

export interface Preferences {
  respondAsync: boolean;
  /** `wait=N`, seconds; undefined when absent or not a non-negative integer. */
  waitS: number | undefined;
}

const DELTA_SECONDS = /^\d{1,10}$/;

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** Parses one or more `Prefer` header values (Node joins repeated headers with ", "). */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const preferences: Preferences = { respondAsync: false, waitS: undefined };
  const seen = new Set<string>();
  for (const item of text.split(',')) {
    // `token [= value] *( ; parameter )`: parameters mean nothing to us.
    const [pair = ''] = item.split(';');
    const equals = pair.indexOf('=');
    const name = (equals < 0 ? pair : pair.slice(0, equals)).trim().toLowerCase();
    const value = equals < 0 ? '' : unquote(pair.slice(equals + 1).trim());
    // RFC 7240 §2: when a preference is given twice, the first one counts.
    if (!name || seen.has(name)) continue;
    seen.add(name);
    if (name === 'respond-async') preferences.respondAsync = true;
    else if (name === 'wait' && DELTA_SECONDS.test(value)) preferences.waitS = Number(value);
  }
  return preferences;
}

/**
 * How long to wait for the job, seconds: `wait=N` capped at `maxS`; with `respond-async`
 * alone, not at all; otherwise the maximum.
 */
export function waitSeconds(preferences: Preferences, maxS: number): number {
  if (preferences.waitS !== undefined) return Math.min(preferences.waitS, maxS);
  return preferences.respondAsync ? 0 : maxS;
}

/** The `Preference-Applied` value for what was honoured, or undefined when nothing was. */
export function preferenceApplied(preferences: Preferences, waitedS: number): string | undefined {
  const applied: string[] = [];
  if (preferences.respondAsync) applied.push('respond-async');
  if (preferences.waitS !== undefined) applied.push(`wait=${waitedS}`);
  return applied.length > 0 ? applied.join(', ') : undefined;
}
