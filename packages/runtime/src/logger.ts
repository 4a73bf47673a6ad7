import { type Logger, type LoggerOptions, pino } from 'pino';

/**
 * Paths whose values never reach logs: credentials and signing secrets. Values under a
 * sensitive key name are also redacted at any depth by `scrubLogValue`, and secrets
 * embedded in strings (messages, error texts) are masked by pattern; these paths are
 * the first line, applied by pino on the final line.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'authorization',
  '*.authorization',
  '["x-api-key"]',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'falKey',
  '*.falKey',
  'FAL_KEY',
  '*.FAL_KEY',
  'fal.key',
  '*.fal.key',
  'falConfig.key',
  '*.falConfig.key',
  'credentials',
  '*.credentials',
  'secret',
  '*.secret',
  'previous_secret',
  '*.previous_secret',
  'previousSecret',
  '*.previousSecret',
  'signingSecret',
  '*.signingSecret',
  'config.FAL_KEY',
  'config.FILES_SIGNING_SECRET',
  'config.API_KEYS',
  'config.ADMIN_API_KEY',
];

export const REDACTED = '[redacted]';

/** Key names (lower-cased) whose values are replaced wherever they occur in a logged object. */
const SENSITIVE_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'apikey',
  'api_key',
  'api_keys',
  'admin_api_key',
  'fal_key',
  'falkey',
  'credentials',
  'secret',
  'previous_secret',
  'previoussecret',
  'signingsecret',
  'signing_secret',
  'files_signing_secret',
  'webhook_secret',
  'webhooksecret',
  'password',
]);

/** Under these parents, `key` is a credential too (fal's client config). */
const KEY_HOLDERS = /^(fal|falconfig|fal_config|falclient|credentials)$/i;

/** `data:<mime>;base64,<bytes>` anywhere in a string; the bytes become their count. */
const DATA_URI =
  /data:([A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+)?((?:;[A-Za-z0-9_.+-]+=[^;,\s"']*)*);base64,([A-Za-z0-9+/_-]*)(={0,2})/g;

/** Secrets recognisable by their shape, masked wherever they appear in a logged string. */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // our API keys
  [/fq_[A-Za-z0-9_-]{6,}/g, `fq_${REDACTED}`],
  // Standard Webhooks secrets
  [/whsec_[A-Za-z0-9+/=]{10,}/g, `whsec_${REDACTED}`],
  // fal's `Authorization: Key <id>:<secret>` and bearer tokens
  [/\bKey [^\s"'\\]{8,}/g, `Key ${REDACTED}`],
  [/\bBearer [^\s"'\\]{6,}/gi, `Bearer ${REDACTED}`],
];

/** How deep `scrubLogValue` walks into a logged object; deeper values are summarised. */
const MAX_SCRUB_DEPTH = 8;
/** Longest array `scrubLogValue` walks item by item; the rest are summarised. */
const MAX_SCRUB_ITEMS = 100;

/** Literal secrets of at least this length are masked (shorter ones would mangle text). */
const MIN_LITERAL_SECRET = 4;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `data:image/png;base64,iVBOR…` → `data:image/png;base64,[1234 bytes]`. */
function maskDataUri(_match: string, mime: string | undefined, params: string, body: string, pad: string) {
  const bytes = Math.max(0, Math.floor(((body.length + pad.length) * 3) / 4) - pad.length);
  return `data:${mime ?? ''}${params};base64,[${bytes} bytes]`;
}

/** A string scrubber: data URIs by size, secret shapes and the given literal secrets masked. */
export function createStringScrubber(secrets: readonly string[] = []): (text: string) => string {
  const literals = [...new Set(secrets.filter((s) => s.length >= MIN_LITERAL_SECRET))]
    // longest first, so a secret containing another is masked whole
    .sort((a, b) => b.length - a.length);
  const literal = literals.length > 0 ? new RegExp(literals.map(escapeRegExp).join('|'), 'g') : undefined;
  return (text) => {
    let out = text;
    if (out.includes('data:')) out = out.replace(DATA_URI, maskDataUri);
    for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
    if (literal) out = out.replace(literal, REDACTED);
    return out;
  };
}

const defaultScrubber = createStringScrubber();

/** Masks data URIs and secret-shaped substrings in one string (no literal secrets). */
export const scrubLogString = (text: string): string => defaultScrubber(text);

/**
 * A copy of `value` fit for a log line: strings scrubbed, values under sensitive keys
 * redacted, errors as pino serializes them (type, message and stack with causes, own
 * fields), walked to a bounded depth. Buffers are logged as their length only.
 */
export function scrubLogValue(value: unknown, scrub: (text: string) => string = defaultScrubber): unknown {
  return walk(value, scrub, 0, new WeakSet(), undefined);
}

function walk(
  value: unknown,
  scrub: (text: string) => string,
  depth: number,
  seen: WeakSet<object>,
  parent: string | undefined,
): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_SCRUB_DEPTH) return Array.isArray(value) ? '[array]' : '[object]';
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  if (value instanceof URL) return scrub(value.href);
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_SCRUB_ITEMS).map((item) => walk(item, scrub, depth + 1, seen, parent));
      if (value.length > MAX_SCRUB_ITEMS) items.push(`[${value.length - MAX_SCRUB_ITEMS} more]`);
      return items;
    }
    if (value instanceof Map) return walk(Object.fromEntries(value), scrub, depth, seen, parent);
    if (value instanceof Set) return walk([...value], scrub, depth, seen, parent);
    const source: object = value instanceof Error ? pino.stdSerializers.err(value) : value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(source)) {
      const credential =
        SENSITIVE_KEYS.has(key.toLowerCase()) ||
        (key === 'key' && parent !== undefined && KEY_HOLDERS.test(parent));
      // `{"__proto__": …}` from parsed JSON is an own key: it stays data, never a prototype.
      Object.defineProperty(out, key, {
        value:
          credential && item !== undefined && item !== null
            ? REDACTED
            : walk(item, scrub, depth + 1, seen, key),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a sink to assert on. */
  destination?: pino.DestinationStream;
  /**
   * Secret values (API keys, signing secrets, the fal key) masked wherever they would
   * appear in a line, whatever their shape.
   */
  secrets?: readonly string[];
}

/**
 * A pino logger that never writes credentials: `REDACTED_PATHS`, sensitive keys at any
 * depth, secret-shaped substrings (`fq_…`, `whsec_…`, `Key …`, `Bearer …`) and the given
 * literal secrets are masked; data URIs are logged as their size.
 */
export function createLogger({ name, level = 'info', destination, secrets }: CreateLoggerOptions): Logger {
  const scrub = createStringScrubber(secrets);
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: REDACTED },
    base: { service: name },
    formatters: {
      log: (object) => scrubLogValue(object, scrub) as Record<string, unknown>,
      bindings: (bindings) => scrubLogValue(bindings, scrub) as Record<string, unknown>,
    },
    // `formatters.log` already turned errors into scrubbed objects.
    serializers: { err: (value: unknown) => (value instanceof Error ? scrubLogValue(value, scrub) : value) },
    hooks: {
      // The message and its format arguments are strings pino writes as they are.
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        // Without a message pino uses the error's: give it the scrubbed one.
        const error = first instanceof Error ? first : (first as { err?: unknown } | null | undefined)?.err;
        if (
          error instanceof Error &&
          typeof rest[0] !== 'string' &&
          (first as { msg?: unknown }).msg === undefined
        ) {
          const merged = first instanceof Error ? { err: first } : first;
          return method.apply(this, [merged, scrub(error.message)] as Parameters<typeof method>);
        }
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  // pino runs `formatters.bindings` for the root only: scrub children's bindings here
  // (children inherit this method, so grandchildren are covered too).
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, scrubLogValue(bindings, scrub) as typeof bindings, childOptions);
  } as typeof logger.child;
  return logger;
}

export type { Logger };
