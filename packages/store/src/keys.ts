/**
 * The keys of the records this package owns, under the `{fluxq}` hash tag every fluxq key
 * shares (one Redis Cluster slot). Nothing else reads or writes them: callers use the stores.
 */
const TAG = '{fluxq}';

export const recordKeys = {
  /** An upload's metadata (JSON, expiring with the upload); the bytes are in blob storage. */
  upload: (id: string) => `${TAG}:upload:${id}`,
  /** A tenant's `Idempotency-Key` claim (the key hashed: clients choose it), then the job it made. */
  idempotency: (tenant: string, keyHash: string) => `${TAG}:idempotency:${tenant}:${keyHash}`,
  /** A tenant's sliding-window log of requests let through (sorted set, score = Redis time ms). */
  requestLog: (tenant: string) => `${TAG}:ratelimit:${tenant}`,
  /** What a tenant's accepted jobs cost on one UTC day (`YYYY-MM-DD`), integer micro-dollars. */
  spend: (tenant: string, day: string) => `${TAG}:spend:${tenant}:${day}`,
};
