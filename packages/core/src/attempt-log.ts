/**
 * What happened to a job at fal, attempt by attempt and request by request: kept on the
 * record by the worker and shown on the job as `attempt_log`, so a user can see where the
 * time went (a failed attempt, the backoff after it, a hedge and when it was sent).
 * Times are ms timestamps on the record and ms since the job was created in the view.
 */

/** How a fal request ended for the job. */
export type RequestOutcome =
  /** Its result became the job's output. */
  | 'succeeded'
  /** fal finished it with an error. */
  | 'failed'
  /** We cancelled it at fal: it lost a hedge race, timed out, or the job was canceled. */
  | 'canceled'
  /** fal lost it (404); it was submitted again. */
  | 'lost'
  /** Left running when the attempt ended another way; a later attempt may resume it. */
  | 'left';

export interface RequestLogEntry {
  request_id: string;
  chunk: number;
  hedge: boolean;
  submitted_ms: number;
  /** When fal first reported it in progress (a runner picked it up), when we saw it. */
  running_ms: number | null;
  ended_ms: number | null;
  outcome: RequestOutcome | null;
}

/**
 * Why a due hedge was or was not sent. `withdrawn`: it waited in line for a fal slot (under its
 * job's class) and the request it would race ended first, or the race ended. `no_slot` appears
 * only on entries written before hedges waited in line (a hedge was then skipped when no slot was free).
 */
export type HedgeDecision = 'sent' | 'budget_spent' | 'breaker_not_closed' | 'withdrawn' | 'no_slot';

/**
 * What made a hedge due: `queued` = the request was still waiting in fal's queue past the
 * tracked queue-time quantile (the two then race to a runner and the one still queued is
 * cancelled, unbilled); `slow` = the request passed the tracked time-to-result quantile.
 */
export type HedgeTrigger = 'queued' | 'slow';

export interface HedgeLogEntry {
  chunk: number;
  /** When the hedge came due (the first request passed the hedge point). */
  due_ms: number;
  decision: HedgeDecision;
  /** Absent on entries written before triggers existed (they were all `slow`). */
  trigger?: HedgeTrigger;
  /** The request the hedge raced (the one that was slow or queued). */
  of_request_id?: string;
}

export type AttemptOutcome = 'succeeded' | 'failed' | 'retried' | 'canceled';

export interface AttemptLogEntry {
  /** The attempt's number as the job counts them (`attempts`); an uncounted retry repeats it. */
  attempt: number;
  /** False when the attempt was lost to a fal outage or a 429 and was given back. */
  counted: boolean;
  started_ms: number;
  /** Null while it runs (or when its worker died; the next run resumes it). */
  ended_ms: number | null;
  outcome: AttemptOutcome | null;
  error_code: string | null;
  requests: RequestLogEntry[];
  hedges: HedgeLogEntry[];
}

/** Time spent in attempts and waiting between them, from the log. Unit: ms. */
export function attemptTotals(log: readonly AttemptLogEntry[]): {
  attempts_ms: number | null;
  retry_wait_ms: number | null;
} {
  if (log.length === 0) return { attempts_ms: null, retry_wait_ms: null };
  let attempts = 0;
  let waits = 0;
  let previousEnd: number | null = null;
  for (const entry of log) {
    if (previousEnd !== null) waits += Math.max(0, entry.started_ms - previousEnd);
    if (entry.ended_ms !== null) attempts += entry.ended_ms - entry.started_ms;
    previousEnd = entry.ended_ms;
  }
  return { attempts_ms: attempts, retry_wait_ms: waits };
}

/** The log as the job shows it: every time in ms since the job was created. */
export function viewAttemptLog(log: readonly AttemptLogEntry[], createdMs: number) {
  const since = (ms: number | null) => (ms === null ? null : ms - createdMs);
  return log.map((entry) => ({
    attempt: entry.attempt,
    counted: entry.counted,
    started_ms: entry.started_ms - createdMs,
    ended_ms: since(entry.ended_ms),
    outcome: entry.outcome,
    error_code: entry.error_code,
    requests: entry.requests.map((request) => ({
      request_id: request.request_id,
      chunk: request.chunk,
      hedge: request.hedge,
      submitted_ms: request.submitted_ms - createdMs,
      running_ms: since(request.running_ms),
      ended_ms: since(request.ended_ms),
      outcome: request.outcome,
    })),
    hedges: entry.hedges.map((hedge) => ({ ...hedge, due_ms: hedge.due_ms - createdMs })),
  }));
}
