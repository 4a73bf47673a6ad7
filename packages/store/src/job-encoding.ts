import type { JobInput, JobRecord } from '@fluxq/core';

/**
 * How a job record sits in its Redis hash. A new job is its `status` and `b0`, `b1`, …: the record
 * as accepted, one JSON value without its id (the key holds it), `created_at` (read off
 * `created_ms`), any field still at its starting value or the input's empty lists, cut (by the
 * store's script) into pieces of at most 64 bytes. Short values keep the hash in Redis's compact
 * listpack encoding (`hash-max-listpack-value`, 64 by default); one longer value, or twenty-odd
 * fields of their own, would make it a hash table at ~60 B per field: together a queued job takes
 * about a quarter of the memory it did (Redis runs with noeviction, so its memory is the backlog's ceiling).
 * Later writes (the worker, a cancel) set fields of their own, one JSON value each, so writers of
 * different fields never overwrite each other; a field read back wins over the same field in the
 * base. Records written before the base existed (a field per property, id included) decode the
 * same way.
 */

/** Pieces of the base: `b0`, `b1`, … (no record field has such a name). */
const PIECE = /^b(\d+)$/;
/**
 * Redis's default `hash-max-listpack-value`: longer values turn a hash into a hash table. The
 * store's script cuts the base at this many bytes (job-create-many.lua); a piece may end inside a
 * UTF-8 character, so pieces are joined as bytes before they are read as text.
 */
export const PIECE_BYTES = 64;

/** A record's properties as a new job has them; the base leaves out any still equal to these. */
const startingValues = (): Partial<JobRecord> => ({
  webhook: null,
  started_at: null,
  completed_at: null,
  output: null,
  error: null,
  attempts: 0,
  batch_id: null,
  metadata: {},
  timings: { queue_ms: null, provider_ms: null, total_ms: null },
  fal_requests: [],
  fal_input_urls: [],
  started_ms: null,
});

const STARTING = startingValues() as Record<string, unknown>;

/**
 * Whether `value` is `field`'s starting value, checked by kind rather than by comparing JSON (a
 * 50,000-line batch encodes a million fields on its way to the 202). Starting values are
 * primitives, empty arrays, or objects whose values are primitives.
 */
function atStart(field: string, value: unknown): boolean {
  if (!(field in STARTING)) return false;
  const start = STARTING[field];
  if (start === null || typeof start !== 'object') return value === start;
  if (Array.isArray(start)) return Array.isArray(value) && value.length === 0;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const fields = Object.keys(start);
  const given = value as Record<string, unknown>;
  return (
    Object.keys(given).length === fields.length &&
    fields.every((key) => given[key] === (start as Record<string, unknown>)[key])
  );
}

/** The input's lists that are empty for most jobs (no input images, no passthrough fields). */
const packedInput = (input: JobInput): Partial<JobInput> => {
  const { images, passthrough, ...rest } = input;
  return {
    ...rest,
    ...(images.length > 0 ? { images } : {}),
    ...(Object.keys(passthrough).length > 0 ? { passthrough } : {}),
  };
};

const unpackedInput = (input: Partial<JobInput>): JobInput =>
  ({ ...input, images: input.images ?? [], passthrough: input.passthrough ?? {} }) as JobInput;

/** A new record as the store's script writes it: its status, and its base (cut into pieces there). */
export function encodeNewRecord(record: JobRecord): { status: string; base: string } {
  const base: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) {
    if (value === undefined || field === 'id' || field === 'status' || field === 'created_at') continue;
    if (field === 'input') base.input = packedInput(value as JobInput);
    else if (!atStart(field, value)) base[field] = value;
  }
  return { status: JSON.stringify(record.status), base: JSON.stringify(base) };
}

/** `HSET` arguments of a patch: one JSON value per field. */
export function encodePatch(patch: object): string[] {
  const args: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value !== undefined) args.push(field, JSON.stringify(value));
  }
  return args;
}

/** The record in hash `fields` of job `id` (as `HGETALL` gives them in Buffers); undefined when the hash is gone. */
export function decodeRecord(id: string, fields: Record<string, Buffer>): JobRecord | undefined {
  if (!fields.status) return undefined;
  const record: Record<string, unknown> = { id, ...startingValues() };
  const pieces: Buffer[] = [];
  for (const [field, value] of Object.entries(fields)) {
    const piece = PIECE.exec(field);
    if (piece) pieces[Number(piece[1])] = value;
    else record[field] = JSON.parse(value.toString('utf8'));
  }
  if (pieces.length > 0) {
    const base = JSON.parse(Buffer.concat(pieces).toString('utf8')) as Record<string, unknown>;
    if (base.input) base.input = unpackedInput(base.input as Partial<JobInput>);
    // Fields written later win over the base.
    for (const [field, value] of Object.entries(base)) if (!(field in fields)) record[field] = value;
  }
  if (record.created_at === undefined) record.created_at = Math.floor((record.created_ms as number) / 1000);
  return record as unknown as JobRecord;
}
