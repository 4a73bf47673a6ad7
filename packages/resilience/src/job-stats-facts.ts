import type { JobRecord, ModelId, Operation, RequestLogEntry, RequestOutcome } from '@fluxq/core';

/**
 * What one finished job contributes to the provider table (`GET /v1/stats`), read off its
 * own record: the `attempt_log` has every fal request with its submit, in-progress and end
 * times, `timings.total_ms` the end-to-end time, `cost` the price. Taken when the job ends,
 * so a job is counted once, and computed the same way a client can from `GET /v1/jobs/{id}`.
 */
export interface JobStatsFacts {
  tenant: string;
  model: ModelId;
  operation: Operation;
  status: 'succeeded' | 'failed';
  /** Accepted → stored (or → failed). Unit: ms. */
  totalMs: number;
  /** It took more than one attempt (counted or given back). */
  retried: boolean;
  /** At least one hedge request was sent. */
  hedged: boolean;
  /** Distinct fal requests submitted for it (first requests, hedges, resubmits). */
  submits: number;
  /** Images delivered (0 unless succeeded). */
  images: number;
  /** Price of the delivered images, in millionths of a USD (0 unless succeeded). */
  costMicroUsd: number;
  requests: RequestFacts[];
}

export interface RequestFacts {
  /** fal gave an end: a result, an error, or it lost the request (404). */
  ended: boolean;
  completed: boolean;
  /** Submit → result, for completed first requests (a hedge's time is biased by the race). Unit: ms. */
  generationMs?: number;
  /** Submit → fal first reported it in progress, when a status poll saw that. Unit: ms. */
  firstByteMs?: number;
}

/** Outcomes where fal itself ended the request; `canceled` is ours, `left` is unknown. */
const ENDED_AT_FAL: ReadonlySet<RequestOutcome> = new Set(['succeeded', 'failed', 'lost']);

/**
 * Each fal request once: a request left running by one attempt and resumed by the next is
 * listed in both; the last entry that says how it ended is the one that counts.
 */
export function distinctRequests(record: Pick<JobRecord, 'attempt_log'>): RequestLogEntry[] {
  const byId = new Map<string, RequestLogEntry>();
  for (const attempt of record.attempt_log ?? []) {
    for (const request of attempt.requests) {
      const seen = byId.get(request.request_id);
      if (!seen || request.outcome !== 'left') byId.set(request.request_id, request);
    }
  }
  return [...byId.values()];
}

function requestFacts(request: RequestLogEntry): RequestFacts {
  const completed = request.outcome === 'succeeded';
  const facts: RequestFacts = {
    ended: request.outcome !== null && ENDED_AT_FAL.has(request.outcome),
    completed,
  };
  if (completed && !request.hedge && request.ended_ms !== null) {
    facts.generationMs = request.ended_ms - request.submitted_ms;
  }
  if (request.running_ms !== null) facts.firstByteMs = request.running_ms - request.submitted_ms;
  return facts;
}

/** The facts of a job that just ended with `status` at `completedMs`. */
export function jobStatsFacts(
  record: JobRecord,
  status: 'succeeded' | 'failed',
  completedMs: number,
): JobStatsFacts {
  const log = record.attempt_log ?? [];
  const requests = distinctRequests(record);
  const succeeded = status === 'succeeded';
  return {
    tenant: record.tenant,
    model: record.model,
    operation: record.operation,
    status,
    totalMs: completedMs - record.created_ms,
    retried: log.length > 1,
    hedged: log.some((attempt) => attempt.hedges.some((hedge) => hedge.decision === 'sent')),
    submits: requests.length,
    images: succeeded ? (record.output?.images.length ?? 0) : 0,
    costMicroUsd: succeeded ? Math.round((record.cost?.usd ?? 0) * 1e6) : 0,
    requests: requests.map(requestFacts),
  };
}
