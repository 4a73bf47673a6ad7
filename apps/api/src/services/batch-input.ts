import { isUtf8 } from 'node:buffer';
import { FluxqError, isFluxqError } from '@fluxq/core';
import type { Request, RequestHandler } from 'express';
import multer from 'multer';
import { jsonLimitProblem, MAX_JSON_DEPTH } from '../http/require-json.js';

/**
 * The two forms of `POST /v1/batches` brought to one list of requests, each with its line
 * number: a JSON body `{requests: [...], defaults, webhook_url, metadata, priority}` or a
 * multipart JSONL `file` in OpenAI's Batch line format. Only the shape of each line is
 * judged here (JSON, size, count, method, url); the parameters go through the job
 * normalizer later, and nothing is stored until every line has passed.
 */

/** Most requests in one batch. */
export const MAX_BATCH_REQUESTS = 50_000;
/** Errors listed in an `invalid_batch` answer. */
export const MAX_LISTED_ERRORS = 100;
/** Batch endpoints an OpenAI Batch line may name. */
export const BATCH_URLS = {
  '/v1/images/generations': 'generate',
  '/v1/images/edits': 'edit',
} as const;

export type BatchUrl = keyof typeof BATCH_URLS;

/** One problem of one line, as `invalid_batch` lists it. */
export interface BatchLineError {
  line: number;
  custom_id?: string;
  code: string;
  message: string;
  param?: string | null;
}

/** A request of a batch before its parameters are judged. */
export interface BatchRequestLine {
  line: number;
  customId: string;
  /** Which endpoint the line names (JSONL); the JSON form has none. */
  url: BatchUrl | undefined;
  /** The job request (defaults merged in for the JSON form). */
  body: Record<string, unknown>;
}

/** The batch-level fields. */
export interface BatchOptions {
  webhook_url?: unknown;
  metadata?: unknown;
  priority?: unknown;
}

export interface ParsedBatch {
  requests: BatchRequestLine[];
  errors: BatchLineError[];
  options: BatchOptions;
}

/** The one problem of a batch without requests, listed as line 1 like any other bad line. */
export const EMPTY_BATCH_ERROR: BatchLineError = {
  line: 1,
  code: 'missing_parameter',
  message: 'the batch holds no requests',
  param: 'file',
};

/** 400 `invalid_batch` with the lines at fault (the first 100) in `error.errors`. */
export class BatchValidationError extends FluxqError {
  constructor(
    readonly errors: BatchLineError[],
    totalErrors = errors.length,
  ) {
    const first = errors[0];
    const more = totalErrors > 1 ? ` (and ${totalErrors - 1} more)` : '';
    super(
      'invalid_batch',
      first
        ? `the batch was not accepted: line ${first.line}: ${first.message}${more}`
        : 'the batch was not accepted',
    );
  }

  override toEnvelope() {
    const envelope = super.toEnvelope();
    return { error: { ...envelope.error, errors: this.errors.slice(0, MAX_LISTED_ERRORS) } };
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const MAX_CUSTOM_ID = 512;

/** Collects lines and their problems; stops listing after 100 and counting after the limit. */
export class BatchCollector {
  readonly requests: BatchRequestLine[] = [];
  readonly errors: BatchLineError[] = [];
  /** All problems found, listed or not. */
  errorCount = 0;
  private readonly seen = new Set<string>();

  constructor(readonly maxLineBytes: number) {}

  /** Requests seen (valid or not); past the limit, reading stops. */
  private count = 0;

  get full(): boolean {
    return this.count >= MAX_BATCH_REQUESTS;
  }

  /** Counts one more request; false (and the one error) when it is one too many. */
  private take(line: number): boolean {
    if (this.full) {
      this.tooMany(line);
      return false;
    }
    this.count++;
    return true;
  }

  fail(error: BatchLineError): undefined {
    this.errorCount++;
    if (this.errors.length < MAX_LISTED_ERRORS) this.errors.push(error);
  }

  fromError(line: number, customId: string | undefined, err: unknown): undefined {
    const fluxq = isFluxqError(err) ? err : undefined;
    this.fail({
      line,
      ...(customId === undefined ? {} : { custom_id: customId }),
      code: fluxq?.code ?? 'invalid_request',
      message: fluxq?.message ?? 'the line could not be read',
      param: fluxq?.param ?? null,
    });
  }

  /** The 50,001st request: one error, and no more lines are read. */
  tooMany(line: number): undefined {
    this.fail({
      line,
      code: 'too_many_requests',
      message: `a batch holds at most ${MAX_BATCH_REQUESTS} requests`,
    });
  }

  /** Checks `custom_id` and its uniqueness; undefined (with an error) when it is unusable. */
  customId(line: number, value: unknown): string | undefined {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CUSTOM_ID) {
      this.fail({
        line,
        code: 'invalid_custom_id',
        message: `custom_id must be a string of 1 to ${MAX_CUSTOM_ID} characters`,
        param: 'custom_id',
      });
      return undefined;
    }
    if (this.seen.has(value)) {
      this.fail({
        line,
        custom_id: value,
        code: 'duplicate_custom_id',
        message: `custom_id ${JSON.stringify(value.slice(0, 64))} is used by an earlier line`,
        param: 'custom_id',
      });
      return undefined;
    }
    this.seen.add(value);
    return value;
  }

  lineTooLarge(line: number): undefined {
    this.fail({
      line,
      code: 'line_too_large',
      message: `the line is longer than ${this.maxLineBytes} bytes`,
    });
  }

  /** A JSONL line over the size limit (a request, so it counts toward the limit too). */
  oversizedLine(line: number): undefined {
    if (this.take(line)) this.lineTooLarge(line);
  }

  /** One JSONL line (without its newline). Blank lines are skipped. */
  jsonlLine(line: number, bytes: Buffer): undefined {
    if (bytes.length > this.maxLineBytes) return this.oversizedLine(line);
    const text = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
    if (text.every((byte) => byte === 0x20 || byte === 0x09)) return;
    if (!this.take(line)) return;
    if (!isUtf8(text)) {
      return this.fail({ line, code: 'invalid_json', message: 'the line is not valid UTF-8' });
    }
    const problem = jsonLimitProblem(text, {
      maxDepth: MAX_JSON_DEPTH,
      maxStringBytes: this.maxLineBytes,
      bigStringFields: new Set(),
    });
    if (problem) return this.fromError(line, undefined, problem);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.toString('utf8'));
    } catch {
      return this.fail({ line, code: 'invalid_json', message: 'the line is not valid JSON' });
    }
    if (!isPlainObject(parsed)) {
      return this.fail({ line, code: 'invalid_request', message: 'each line must be a JSON object' });
    }
    const customId = this.customId(line, parsed.custom_id);
    if (customId === undefined) return;
    const at = { line, custom_id: customId };
    if (parsed.method !== 'POST') {
      return this.fail({ ...at, code: 'invalid_method', message: 'method must be "POST"', param: 'method' });
    }
    if (typeof parsed.url !== 'string' || !(parsed.url in BATCH_URLS)) {
      return this.fail({
        ...at,
        code: 'invalid_url',
        message: `url must be one of ${Object.keys(BATCH_URLS).join(', ')}`,
        param: 'url',
      });
    }
    if (!isPlainObject(parsed.body)) {
      return this.fail({
        ...at,
        code: 'invalid_request',
        message: 'body must be a JSON object',
        param: 'body',
      });
    }
    this.requests.push({ line, customId, url: parsed.url as BatchUrl, body: parsed.body });
  }

  /** One request of the JSON form, `defaults` merged under it. */
  jsonRequest(line: number, request: unknown, defaults: Record<string, unknown>): undefined {
    if (!this.take(line)) return;
    if (!isPlainObject(request)) {
      return this.fail({ line, code: 'invalid_request', message: 'each request must be a JSON object' });
    }
    if (Buffer.byteLength(JSON.stringify(request)) > this.maxLineBytes) return this.lineTooLarge(line);
    const { custom_id: raw, ...params } = request;
    const customId = this.customId(line, raw);
    if (customId === undefined) return;
    this.requests.push({ line, customId, url: undefined, body: { ...defaults, ...params } });
  }
}

/** `POST /v1/batches` with a JSON body. */
export function parseJsonBatch(body: unknown, maxLineBytes: number): ParsedBatch {
  if (!isPlainObject(body)) throw new FluxqError('invalid_request', 'the request body must be a JSON object');
  const { requests, defaults = {}, webhook_url, metadata, priority, ...unknown } = body;
  const extra = Object.keys(unknown)[0];
  if (extra !== undefined) {
    throw new FluxqError('unknown_parameter', `unknown parameter "${extra.slice(0, 64)}"`, {
      param: extra.slice(0, 64),
    });
  }
  if (!Array.isArray(requests)) {
    throw new FluxqError('missing_parameter', 'requests must be a non-empty list', { param: 'requests' });
  }
  if (requests.length === 0) throw new BatchValidationError([{ ...EMPTY_BATCH_ERROR, param: 'requests' }]);
  if (!isPlainObject(defaults)) {
    throw new FluxqError('invalid_parameter', 'defaults must be an object of request parameters', {
      param: 'defaults',
    });
  }
  const collector = new BatchCollector(maxLineBytes);
  for (const [index, request] of requests.entries()) {
    if (collector.errors.length >= MAX_LISTED_ERRORS) break;
    collector.jsonRequest(index + 1, request, defaults);
    if (index + 1 > MAX_BATCH_REQUESTS) break;
  }
  return {
    requests: collector.requests,
    errors: collector.errors,
    options: { webhook_url, metadata, priority },
  };
}

/** Splits a stream of bytes into lines for `BatchCollector`, never holding a line past the limit. */
class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  line = 0;

  constructor(private readonly collector: BatchCollector) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) {
        this.hold(chunk.subarray(start));
        return;
      }
      this.hold(chunk.subarray(start, newline));
      this.endLine();
      start = newline + 1;
    }
  }

  end(): void {
    if (this.pendingBytes > 0 || this.skipping) this.endLine();
  }

  /** Stop reading lines (too many requests): the rest of the file is drained unread. */
  get done(): boolean {
    return this.collector.full && this.collector.errorCount > 0;
  }

  private hold(piece: Buffer): void {
    if (piece.length === 0 || this.skipping) return;
    this.pendingBytes += piece.length;
    if (this.pendingBytes > this.collector.maxLineBytes) {
      // Too long: remember that, drop what was held, skip to the end of the line.
      this.skipping = true;
      this.pending = [];
      return;
    }
    this.pending.push(piece);
  }

  private endLine(): void {
    this.line++;
    if (this.done || this.collector.errors.length >= MAX_LISTED_ERRORS) {
      this.reset();
      return;
    }
    if (this.skipping) {
      this.collector.oversizedLine(this.line);
    } else {
      this.collector.jsonlLine(
        this.line,
        this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending),
      );
    }
    this.reset();
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }
}

/** Multer storage that reads the JSONL `file` line by line into the request's collector. */
function jsonlStorage(maxLineBytes: number): multer.StorageEngine {
  return {
    _handleFile(req, file, done) {
      const collector = new BatchCollector(maxLineBytes);
      const splitter = new LineSplitter(collector);
      (req as Request & { batchCollector?: BatchCollector }).batchCollector = collector;
      file.stream.on('data', (chunk: Buffer) => {
        if (!splitter.done) splitter.push(chunk);
      });
      file.stream.on('end', () => {
        splitter.end();
        done(null, { size: 0 });
      });
      file.stream.on('error', (err) => done(err));
    },
    _removeFile(_req, _file, done) {
      done(null);
    },
  };
}

export interface JsonlLimits {
  maxLineBytes: number;
  maxFileBytes: number;
}

/**
 * Parses a multipart `POST /v1/batches`: the JSONL `file` (streamed, line by line) and text
 * fields `webhook_url`, `metadata` (a JSON object, or `metadata[key]` fields) and `priority`.
 * Leaves a `ParsedBatch` in `req.body`.
 */
export function parseMultipartBatch(limits: JsonlLimits): RequestHandler {
  const upload = multer({
    storage: jsonlStorage(limits.maxLineBytes),
    limits: {
      fileSize: limits.maxFileBytes,
      files: 1,
      fields: 32,
      fieldSize: 64 * 1024,
      parts: 33,
      headerPairs: 32,
    },
  }).single('file');
  return (req, res, next) => {
    const declared = Number(req.get('content-length'));
    if (declared > limits.maxFileBytes + 1024 * 1024) {
      res.set('Connection', 'close');
      return next(
        new FluxqError('payload_too_large', `the batch file is larger than ${limits.maxFileBytes} bytes`),
      );
    }
    upload(req, res, (err?: unknown) => {
      if (err) return next(batchMultipartError(err, limits));
      const collector = (req as Request & { batchCollector?: BatchCollector }).batchCollector;
      if (!collector) {
        return next(
          new FluxqError('missing_parameter', 'send the JSONL batch file in the "file" field', {
            param: 'file',
          }),
        );
      }
      try {
        const fields = (req.body ?? {}) as Record<string, unknown>;
        req.body = {
          requests: collector.requests,
          errors: collector.errors,
          options: {
            webhook_url: fields.webhook_url,
            metadata:
              typeof fields.metadata === 'string'
                ? parseJsonField('metadata', fields.metadata)
                : fields.metadata,
            priority: fields.priority,
          },
        } satisfies ParsedBatch;
      } catch (error) {
        return next(error);
      }
      next();
    });
  };
}

function parseJsonField(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new FluxqError('invalid_parameter', `${name} must be a JSON object`, { param: name });
  }
}

function batchMultipartError(err: unknown, limits: JsonlLimits): FluxqError {
  if (isFluxqError(err)) return err;
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE')
      return new FluxqError(
        'payload_too_large',
        `the batch file is larger than ${limits.maxFileBytes} bytes`,
        {
          param: 'file',
        },
      );
    if (err.code === 'LIMIT_UNEXPECTED_FILE' || err.code === 'LIMIT_FILE_COUNT')
      return new FluxqError('unknown_parameter', 'send exactly one file, in the "file" field', {
        param: 'file',
      });
    return new FluxqError('invalid_request', `the multipart body was refused: ${err.message}`);
  }
  return new FluxqError('invalid_request', 'the multipart body could not be parsed', { cause: err });
}
