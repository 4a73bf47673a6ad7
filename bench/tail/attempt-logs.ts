/**
 * What the jobs' `attempt_log`s (GET /v1/jobs/{id}) say about a run: hedges and retries
 * counted, and why the slowest jobs were slow, from their `attempt_log` (GET /v1/jobs/{id}): the
 * diagnosis issue 17 asked for. Each job past the target is put in one class: retried
 * (more than one attempt), a hedge that was due but skipped (by reason), a hedge sent and
 * also slow, or no hedge due at all.
 */

export interface AttemptLogView {
  requests: Array<{
    hedge: boolean;
    submitted_ms: number;
    running_ms: number | null;
    ended_ms: number | null;
  }>;
  hedges: Array<{ due_ms: number; decision: string; trigger?: string }>;
}

export interface LateJobView {
  timings: { total_ms: number | null };
  attempt_log: AttemptLogView[];
}

function classOf(job: LateJobView): string {
  const log = job.attempt_log;
  if (log.length > 1) return 'retried';
  const attempt = log[0];
  if (!attempt) return 'no attempt log';
  const sent = attempt.hedges.filter((h) => h.decision === 'sent');
  if (sent.length > 0) return `hedge sent (${sent.map((h) => h.trigger ?? 'slow').join('+')}) but slow`;
  const skipped = attempt.hedges.find((h) => h.decision !== 'sent');
  if (skipped) return `hedge skipped: ${skipped.decision}`;
  return 'no hedge due';
}

/** Counts of late jobs by class, e.g. `retried 3, hedge skipped: budget_spent 2`. */
export function describeLateJobs(jobs: readonly LateJobView[], lateAfterMs: number): string {
  const late = jobs.filter((job) => (job.timings.total_ms ?? 0) > lateAfterMs);
  const counts = new Map<string, number>();
  for (const job of late) counts.set(classOf(job), (counts.get(classOf(job)) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${what} ${n}`);
  return `${late.length} late${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** Hedges sent by trigger, hedges due but not sent, and retries (attempts beyond the first). */
export function countHedgesAndRetries(jobs: readonly LateJobView[]) {
  const hedges = { queued: 0, slow: 0 };
  let skipped = 0;
  let retries = 0;
  for (const job of jobs) {
    retries += Math.max(0, job.attempt_log.length - 1);
    for (const attempt of job.attempt_log) {
      for (const hedge of attempt.hedges) {
        if (hedge.decision !== 'sent') skipped++;
        else if (hedge.trigger === 'queued') hedges.queued++;
        else hedges.slow++;
      }
    }
  }
  return { hedges, hedgesSkipped: skipped, retries };
}
