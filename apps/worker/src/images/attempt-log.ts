import type {
  AttemptLogEntry,
  AttemptOutcome,
  FalRequestRef,
  HedgeDecision,
  HedgeTrigger,
  JobRecord,
  RequestOutcome,
} from '@fluxq/core';

/**
 * Keeps the record's `attempt_log` in memory as the attempt goes. Nothing here writes to
 * Redis: the log rides along with writes the attempt makes anyway (marking the job
 * running, recording a fal request id, the attempt's end), so it costs no round trip.
 */

/** The attempt a new run continues: the last one, when its worker died before it ended. */
export function interruptedAttempt(record: JobRecord): AttemptLogEntry | undefined {
  const last = record.attempt_log?.at(-1);
  return last && last.ended_ms === null ? last : undefined;
}

/** Starts attempt `attempt` (or returns the interrupted one it resumes). */
export function openAttempt(record: JobRecord, attempt: number, nowMs: number): AttemptLogEntry {
  const resumed = interruptedAttempt(record);
  if (resumed) return resumed;
  const entry: AttemptLogEntry = {
    attempt,
    counted: true,
    started_ms: nowMs,
    ended_ms: null,
    outcome: null,
    error_code: null,
    requests: [],
    hedges: [],
  };
  record.attempt_log = [...(record.attempt_log ?? []), entry];
  return entry;
}

/** Ends the open attempt; `counted: false` when it was given back (fal outage, 429). */
export function closeAttempt(
  record: JobRecord,
  end: { outcome: AttemptOutcome; nowMs: number; errorCode?: string; counted?: boolean },
): void {
  const entry = interruptedAttempt(record);
  if (!entry) return;
  entry.ended_ms = end.nowMs;
  entry.outcome = end.outcome;
  entry.error_code = end.errorCode ?? null;
  if (end.counted === false) entry.counted = false;
  for (const request of entry.requests) {
    if (request.outcome === null) {
      request.outcome = 'left';
      request.ended_ms = end.nowMs;
    }
  }
}

/** A fal request of the open attempt was submitted (or resumed: then it is already listed). */
export function logRequest(record: JobRecord, ref: FalRequestRef): void {
  const entry = interruptedAttempt(record);
  if (!entry || entry.requests.some((r) => r.request_id === ref.request_id)) return;
  entry.requests.push({
    request_id: ref.request_id,
    chunk: ref.chunk,
    hedge: ref.hedge === true,
    submitted_ms: ref.submitted_at,
    running_ms: null,
    ended_ms: null,
    outcome: null,
  });
}

/** What became of a request; `runningMs` is when fal first reported it in progress. */
export function settleRequest(
  record: JobRecord,
  requestId: string,
  settled: { outcome: RequestOutcome; nowMs: number; runningMs?: number },
): void {
  const request = interruptedAttempt(record)?.requests.find((r) => r.request_id === requestId);
  if (!request) return;
  request.outcome = settled.outcome;
  request.ended_ms = settled.nowMs;
  if (settled.runningMs !== undefined && request.running_ms === null) request.running_ms = settled.runningMs;
}

/** fal reported the request in progress (a runner took it), first seen at `nowMs`. */
export function markRunning(record: JobRecord, requestId: string, nowMs: number): void {
  const request = interruptedAttempt(record)?.requests.find((r) => r.request_id === requestId);
  if (request && request.running_ms === null) request.running_ms = nowMs;
}

/** A hedge of request `of` came due for `chunk`; `decision` says whether it was sent. */
export function logHedge(
  record: JobRecord,
  due: { chunk: number; decision: HedgeDecision; trigger: HedgeTrigger; of: string; nowMs: number },
): void {
  interruptedAttempt(record)?.hedges.push({
    chunk: due.chunk,
    due_ms: due.nowMs,
    decision: due.decision,
    trigger: due.trigger,
    of_request_id: due.of,
  });
}
