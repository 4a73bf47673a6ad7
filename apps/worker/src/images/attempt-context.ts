import type { Dimensions, FalRequestRef, JobRecord } from '@fluxq/core';
import type { ProcessorDeps } from '../deps.js';

/** What every step of one attempt of one job shares. */
export interface AttemptContext {
  record: JobRecord;
  deps: ProcessorDeps;
  /** Output size, resolved before the first submit. */
  size: Dimensions;
  /** The job's inputs on fal's CDN (edits only). */
  falUrls: string[];
  /** Aborted when the job is stopped or another chunk of this attempt failed. */
  signal: AbortSignal;
  /** This attempt holds the breaker's half-open probe. */
  probe: boolean;
  /** A fal request not finished this long after its submit is cancelled and the attempt fails. */
  requestTimeoutMs: number;
  /** When this job's requests are hedged; undefined = never (not a hedged priority). */
  hedge: HedgePlan | undefined;
  /** Nothing waits past this ms timestamp (the job's deadline). */
  deadlineMs: number;
  /** New work (first attempt) counts towards the retry and hedge budgets' base traffic. */
  firstAttempt: boolean;
}

/** Hedge points from the tracked distributions of the job's model and operation. */
export interface HedgePlan {
  /** When a request still without a result is hedged (ms timestamp), from its submit and the job's start. */
  slowAtMs(ref: FalRequestRef): number;
  /** Hedge a request still queued at fal this long after its submit; undefined = no queued hedge. */
  queuedAfterMs: number | undefined;
}
