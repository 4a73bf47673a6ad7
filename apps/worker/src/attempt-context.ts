import type { Dimensions, JobRecord } from '@fluxq/core';
import type { ProcessorDeps } from './deps.js';

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
  /** Hedge a request still running this long after its submit; undefined = no hedging for this job. */
  hedgeAfterMs: number | undefined;
  /** Nothing waits past this ms timestamp (the job's deadline). */
  deadlineMs: number;
  /** New work (first attempt) counts towards the retry and hedge budgets' base traffic. */
  firstAttempt: boolean;
}
