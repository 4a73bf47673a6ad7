import { createHash, randomUUID } from 'node:crypto';
import { FluxqError, type JobRecord } from '@fluxq/core';
import type { ApiDeps } from '../deps.js';

/**
 * `Idempotency-Key` for requests that create work (DESIGN §5), as Stripe does it: the
 * key is the tenant's; the first request with it records a fingerprint of its route
 * and body, then the job it created. A retry with the same key and body gets that job
 * again (same status code, header `Idempotent-Replayed: true`); the same key with
 * another body is a 422; a retry while the first request is still being accepted is a 409.
 */

/** Request header carrying the client's key. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** Response header set (to `true`) when the answer is a replay of an earlier request. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
/**
 * How long a key stays claimed by a request that is still being accepted. Accepting
 * takes seconds at most; this only matters when the API dies mid-request, after which
 * a retry is refused (409) for this long, then goes ahead.
 */
export const IN_FLIGHT_TTL_S = 120;

/** 1..255 printable ASCII characters (Stripe's limit). */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

type Entry =
  | { state: 'in_flight'; fingerprint: string; token: string }
  | { state: 'done'; fingerprint: string; job_id: string };

/** What a request needs to take part: the caller's tenant and its headers. */
export interface IdempotentRequest {
  tenant: string;
  get(header: string): string | undefined;
}

export interface IdempotentResult {
  record: JobRecord;
  /** True when `record` was created by an earlier request with the same key. */
  replayed: boolean;
}

/** The request's `Idempotency-Key`, or undefined when it sends none; 400 when it is malformed. */
export function idempotencyKeyOf(req: Pick<IdempotentRequest, 'get'>): string | undefined {
  const key = req.get(IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw new FluxqError(
      'invalid_parameter',
      `${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 printable ASCII characters`,
      { param: IDEMPOTENCY_KEY_HEADER },
    );
  }
  return key;
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same body. */
export function canonicalJson(value: unknown): string {
  const sort = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sort);
    if (item !== null && typeof item === 'object') {
      const entries = Object.keys(item)
        .sort()
        .map((key) => [key, sort((item as Record<string, unknown>)[key])]);
      return Object.fromEntries(entries);
    }
    return item;
  };
  return JSON.stringify(sort(value)) ?? 'undefined';
}

/** Fingerprint of a JSON request: its route (e.g. `POST /v1/jobs`) and its canonical body. */
export function fingerprintJson(route: string, body: unknown): string {
  return createHash('sha256').update(route).update('\n').update(canonicalJson(body)).digest('hex');
}

/** Fingerprint of a multipart request: its route, its text fields and every file's bytes, in order. */
export function fingerprintMultipart(
  route: string,
  fields: Record<string, unknown>,
  files: ReadonlyArray<{ fieldname: string; buffer: Uint8Array }>,
): string {
  const hash = createHash('sha256').update(route).update('\n').update(canonicalJson(fields));
  for (const file of files) {
    hash
      .update(`\n${file.fieldname.length}:${file.fieldname}:${file.buffer.byteLength}\n`)
      .update(file.buffer);
  }
  return hash.digest('hex');
}

/** A claim of the tenant's key, held in the idempotency store (packages/store). */
interface Claim {
  tenant: string;
  keyHash: string;
}

/** Replaces the claim's value only if it is still `expected` (a request that lost its claim changes nothing). */
async function replaceIfSame(deps: ApiDeps, claim: Claim, expected: string, next?: string): Promise<void> {
  await deps.records.idempotency.replaceIfSame(
    claim.tenant,
    claim.keyHash,
    expected,
    next,
    deps.settings.idempotencyTtlS,
  );
}

/**
 * Runs `create` at most once per tenant, `Idempotency-Key` and fingerprint. Without
 * the header it simply runs `create`. A failed `create` releases the key, so a retry
 * can succeed; only created work is remembered (for `IDEMPOTENCY_TTL_S`).
 * `fingerprintOf` may be a function: then the body is only hashed when the request has a key.
 */
export async function withIdempotency(
  req: IdempotentRequest,
  deps: ApiDeps,
  fingerprintOf: string | (() => string),
  create: () => Promise<JobRecord>,
): Promise<IdempotentResult> {
  const clientKey = idempotencyKeyOf(req);
  if (clientKey === undefined) return { record: await create(), replayed: false };
  const fingerprint = typeof fingerprintOf === 'string' ? fingerprintOf : fingerprintOf();
  const key: Claim = { tenant: req.tenant, keyHash: createHash('sha256').update(clientKey).digest('hex') };

  // Another request may release or expire the key between our SET and GET: look again.
  for (let look = 0; look < 3; look++) {
    const claim = JSON.stringify({ state: 'in_flight', fingerprint, token: randomUUID() } satisfies Entry);
    if (await deps.records.idempotency.claim(key.tenant, key.keyHash, claim, IN_FLIGHT_TTL_S)) {
      let record: JobRecord;
      try {
        record = await create();
      } catch (err) {
        await replaceIfSame(deps, key, claim).catch(() => {});
        throw err;
      }
      const done = JSON.stringify({ state: 'done', fingerprint, job_id: record.id } satisfies Entry);
      // The job is accepted whatever happens here; failing to remember the key only risks a duplicate.
      await replaceIfSame(deps, key, claim, done).catch((err: unknown) =>
        deps.logger.warn({ err, jobId: record.id }, 'could not record the idempotency key'),
      );
      return { record, replayed: false };
    }

    const stored = await deps.records.idempotency.read(key.tenant, key.keyHash);
    if (stored === undefined) continue;
    const entry = JSON.parse(stored) as Entry;
    if (entry.fingerprint !== fingerprint) {
      throw new FluxqError(
        'idempotency_key_reused',
        `this ${IDEMPOTENCY_KEY_HEADER} was already used with a different request; use a new key for a new request`,
        { param: IDEMPOTENCY_KEY_HEADER },
      );
    }
    if (entry.state === 'in_flight') {
      throw new FluxqError(
        'idempotency_in_flight',
        `a request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly`,
        { param: IDEMPOTENCY_KEY_HEADER, retryAfterS: 1 },
      );
    }
    const record = await deps.store.get(entry.job_id);
    if (record && record.tenant === req.tenant) return { record, replayed: true };
    // The job is gone (past its retention): the key no longer stands for anything.
    await replaceIfSame(deps, key, stored);
  }
  throw new FluxqError(
    'idempotency_in_flight',
    `a request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly`,
    { param: IDEMPOTENCY_KEY_HEADER, retryAfterS: 1 },
  );
}
