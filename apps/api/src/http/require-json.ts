import { isUtf8 } from 'node:buffer';
import { FluxqError } from '@fluxq/core';
import express, { type RequestHandler } from 'express';

/** Deepest nesting of objects and arrays a JSON body may have. */
export const MAX_JSON_DEPTH = 32;
/** Longest string (key or value, as sent, escapes included) outside the image fields. */
export const MAX_JSON_STRING_BYTES = 1024 * 1024;
/**
 * Top-level fields whose strings may be longer: data: URIs of input images, which have
 * byte limits of their own (the body limit, then the image checks).
 */
export const BIG_STRING_FIELDS: ReadonlySet<string> = new Set(['image', 'images']);

/** Small bodies (cancel, rotate, recover, enable) are at most this. */
export const SMALL_BODY_BYTES = 64 * 1024;

/** Marks a refusal thrown from body-parser's `verify`, which wraps whatever it gets. */
const REFUSED = 'fluxq.json.refused';

export interface JsonLimits {
  maxDepth: number;
  maxStringBytes: number;
  bigStringFields: ReadonlySet<string>;
}

const DEFAULT_LIMITS: JsonLimits = {
  maxDepth: MAX_JSON_DEPTH,
  maxStringBytes: MAX_JSON_STRING_BYTES,
  bigStringFields: BIG_STRING_FIELDS,
};

interface Frame {
  object: boolean;
  /** Keys seen so far (objects). */
  keys?: Set<string>;
  /** The next string in this object is a key. */
  expectKey: boolean;
  /** The key whose value is being read (objects). */
  key?: string;
  /** Inside a big-string field: strings are not limited here. */
  big: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const where = (stack: Frame[]) => {
  const path = stack.map((frame) => frame.key).filter((key): key is string => key !== undefined);
  return path.length > 0 ? ` (at "${path.join('.').slice(0, 100)}")` : '';
};

/**
 * Checks a JSON text against the limits a parsed body loses: nesting depth, string sizes,
 * duplicate keys. One pass over the bytes, before anything is parsed (a 40 MB body of
 * `[[[[…` never becomes 20 million arrays). It trusts JSON.parse with syntax: on text it
 * does not understand it stops and lets the parser refuse it.
 */
export function jsonLimitProblem(text: Buffer, limits: JsonLimits = DEFAULT_LIMITS): FluxqError | undefined {
  const stack: Frame[] = [];
  let i = 0;
  const length = text.length;
  while (i < length) {
    const byte = text[i]!;
    if (byte === 0x7b /* { */ || byte === 0x5b /* [ */) {
      const parent = stack.at(-1);
      const big =
        parent !== undefined &&
        (parent.big ||
          (stack.length === 1 &&
            parent.object &&
            parent.key !== undefined &&
            limits.bigStringFields.has(parent.key)));
      const object = byte === 0x7b;
      stack.push({ object, keys: object ? new Set() : undefined, expectKey: object, big });
      if (stack.length > limits.maxDepth) {
        return new FluxqError(
          'invalid_request',
          `the JSON body nests deeper than ${limits.maxDepth} levels${where(stack)}`,
        );
      }
      i++;
    } else if (byte === 0x7d /* } */ || byte === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (byte === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top?.object) top.expectKey = true;
      i++;
    } else if (byte === QUOTE) {
      // Find the closing quote: one not preceded by an odd number of backslashes.
      let end = text.indexOf(QUOTE, i + 1);
      for (;;) {
        if (end < 0) return undefined; // unterminated: the parser says so
        let slashes = 0;
        while (text[end - 1 - slashes] === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf(QUOTE, end + 1);
      }
      const bytes = end - i - 1;
      const top = stack.at(-1);
      if (top?.object && top.expectKey) {
        if (bytes > limits.maxStringBytes) {
          return new FluxqError(
            'invalid_request',
            `a key in the JSON body is longer than ${limits.maxStringBytes} bytes${where(stack)}`,
          );
        }
        let key = text.toString('utf8', i + 1, end);
        if (key.includes('\\')) {
          // Escapes: `"\u0061"` and `"a"` are the same key.
          try {
            key = JSON.parse(`"${key}"`) as string;
          } catch {
            return undefined;
          }
        }
        if (top.keys!.has(key)) {
          return new FluxqError(
            'invalid_json',
            `the JSON body has a duplicate key ${JSON.stringify(key.slice(0, 64))}${where(stack.slice(0, -1))}`,
          );
        }
        top.keys!.add(key);
        top.key = key;
        top.expectKey = false;
      } else {
        const big =
          top !== undefined &&
          (top.big ||
            (stack.length === 1 &&
              top.object &&
              top.key !== undefined &&
              limits.bigStringFields.has(top.key)));
        if (!big && bytes > limits.maxStringBytes) {
          return new FluxqError(
            'invalid_request',
            `a string in the JSON body is longer than ${limits.maxStringBytes} bytes${where(stack)}`,
            { param: stack.length === 1 ? (top?.key ?? null) : null },
          );
        }
      }
      i = end + 1;
    } else {
      i++;
    }
  }
  return undefined;
}

/** Turns our refusal into an error body-parser passes on untouched enough for `toFluxqError`. */
function refusal(error: FluxqError): Error {
  return Object.assign(new Error(error.message), { type: REFUSED, refusal: error });
}

/** The refusal a JSON body parser raised from its checks, if `err` is one. */
export function jsonRefusal(err: unknown): FluxqError | undefined {
  const candidate = err as { type?: unknown; refusal?: unknown } | null | undefined;
  return candidate?.type === REFUSED && candidate.refusal instanceof FluxqError
    ? candidate.refusal
    : undefined;
}

/** A declared body over `limitBytes` is refused before it is read; the connection is closed, not drained. */
export function refuseDeclaredOver(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.get('content-length'));
    if (declared > limitBytes) {
      res.set('Connection', 'close');
      return next(new FluxqError('payload_too_large', `the request body is larger than ${limitBytes} bytes`));
    }
    next();
  };
}

/** Only UTF-8 JSON (RFC 8259 §8.1); a charset parameter naming anything else is a 415. */
function charsetProblem(req: Parameters<RequestHandler>[0]): FluxqError | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.get('content-type') ?? '');
  const charset = match?.[1]?.toLowerCase();
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return undefined;
  return new FluxqError(
    'unsupported_content_type',
    `send JSON as UTF-8 (got charset ${charset.slice(0, 40)})`,
  );
}

/**
 * Parses an `application/json` body up to `limitBytes`: UTF-8 only, never inflated (a
 * `Content-Encoding` is a 415), checked by `jsonLimitProblem` before it is parsed.
 */
export function jsonBody(limitBytes: number, limits: JsonLimits = DEFAULT_LIMITS): RequestHandler {
  const declared = refuseDeclaredOver(limitBytes);
  const parse = express.json({
    limit: limitBytes,
    strict: false,
    inflate: false,
    verify: (_req, _res, buf) => {
      if (!isUtf8(buf)) {
        throw refusal(new FluxqError('invalid_json', 'the request body is not valid UTF-8'));
      }
      const problem = jsonLimitProblem(buf, limits);
      if (problem) throw refusal(problem);
    },
  });
  return (req, res, next) => {
    const charset = charsetProblem(req);
    if (charset) return next(charset);
    declared(req, res, (err?: unknown) => (err ? next(err) : parse(req, res, next)));
  };
}

/** A JSON body parser that refuses other content types with a 415 instead of ignoring the body. */
export function requireJson(limitBytes: number): RequestHandler[] {
  return [
    (req, _res, next) => {
      if (!req.is('application/json')) {
        const got = req.get('content-type') ?? 'none';
        return next(
          new FluxqError(
            'unsupported_content_type',
            `send Content-Type: application/json (got ${got.slice(0, 100)})`,
          ),
        );
      }
      next();
    },
    jsonBody(limitBytes),
  ];
}

/**
 * For routes that take no body (cancel, resend, rotate): whatever is sent is read up to
 * `limitBytes` and ignored; more is a 413, a declared excess before anything is read.
 */
export function smallBody<P = ParamsOf<RequestHandler>>(
  limitBytes: number = SMALL_BODY_BYTES,
): RequestHandler<P> {
  const declared = refuseDeclaredOver(limitBytes);
  const read = express.raw({ type: () => true, limit: limitBytes, inflate: false });
  // Params are not read here: the handler is typed for its route's (`smallBody<{ id: string }>()`).
  const handler: RequestHandler = (req, res, next) =>
    declared(req, res, (err?: unknown) => {
      if (err) return next(err);
      read(req, res, (readErr?: unknown) => {
        req.body = undefined;
        next(readErr);
      });
    });
  return handler as unknown as RequestHandler<P>;
}

type ParamsOf<H> = H extends RequestHandler<infer P> ? P : never;
