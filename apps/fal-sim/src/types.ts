import type { JsonWebKey } from 'node:crypto';
import type { RandomSource } from '@fluxq/runtime';

/** How the sim makes output images: drawn per request (the default), or one made per size and reused. */
export type ImageMode = 'rendered' | 'prerendered';

/** The three states fal's queue reports. fal never reports FAILED (fal.md §2.3). */
export type RequestStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';

/** Counters for tests. `reset()` zeroes them. */
export interface SimStats {
  /** Submits that created a request (faulted submits are not counted). */
  submits: number;
  /** The same, per endpoint id. */
  submitsByEndpoint: Record<string, number>;
  /** Cancel calls answered with CANCELLATION_REQUESTED. */
  cancels: number;
  /** Status calls received (polling and stream), faulted ones included. */
  statusCalls: number;
  /** Result calls received, faulted ones included. */
  resultCalls: number;
  /** Files stored through the upload handshake. */
  uploads: number;
  /** Requests waiting IN_QUEUE now. */
  queued: number;
  /** Requests IN_PROGRESS now. */
  inProgress: number;
  /** Highest `inProgress` seen since the last reset. */
  peakInProgress: number;
  /**
   * `inProgress` integrated over time since the last reset, ms (request-ms at fal): the
   * difference between two readings over the time between them is the mean in-progress count.
   */
  inProgressMs: number;
  /** Requests that completed successfully. */
  completed: number;
  /** Requests that completed with an error (validation, infrastructure, timeout, cancel). */
  failed: number;
  /** Requests that reached IN_PROGRESS (a runner took them); one cancelled while still queued never does. */
  ran: number;
  /**
   * Requests fal charges for: those that reached a runner, less those that then ended in a server
   * error (fal's billing FAQ: 5xx are never charged; a 422 or a cancel of a running request may be).
   */
  billed: number;
  /** HTTP calls or outcomes that a fault rule changed. */
  faultsFired: number;
  /** Webhook deliveries attempted (each attempt counts). */
  webhookAttempts: number;
}

/** Where a fault rule applies. */
export type FaultTarget = 'submit' | 'status' | 'result' | 'cancel' | 'upload' | 'cdn' | 'outcome';

/**
 * A fault to inject. Rules are tried in order; the first match is used and its `times`
 * count goes down. `on: 'outcome'` changes how the next submitted request(s) end; every
 * other target answers the matching HTTP call itself.
 */
export interface FaultRule {
  on: FaultTarget;
  /** How many times the rule fires. -1 or Infinity = until reset. @defaultValue 1 */
  times?: number;
  /** Only for this endpoint id (exact match; for status/result/cancel, the request's endpoint). */
  endpoint?: string;
  /**
   * HTTP status. For direct faults, the call is answered with it. For `outcome`, the request
   * ends with it (its result carries it; COMPLETED status has `error`/`error_type`).
   */
  status?: number;
  /** JSON body; a fal-style default is used when omitted. */
  body?: unknown;
  /** Extra response headers (e.g. `Retry-After`, `X-Fal-Request-Timeout-Type`). */
  headers?: Record<string, string>;
  /**
   * Direct faults: wait this long before answering (with no `status`, the call then goes on
   * normally: a slow response). `outcome`: the request runs this long, ignoring time scale.
   */
  delayMs?: number;
  /** Direct faults: never answer until the sim closes. `outcome`: stay IN_PROGRESS until cancelled. */
  hang?: boolean;
  /** Direct faults: answer with a truncated JSON body under a JSON content type. */
  malformed?: boolean;
  /** Direct faults: close the connection without answering (a transport error for the client). */
  reset?: boolean;
  /** `outcome` only: succeed with black images and `has_nsfw_concepts: [true, …]`. */
  nsfw?: boolean;
}

/** Settings that can change while the sim runs (`POST /__sim/config`). */
export interface SimConfig {
  /** Multiplier on sampled latencies; 0 = as fast as possible. */
  timeScale: number;
  /**
   * Failure-rate overrides keyed by endpoint id, model id or `*`. Endpoints without one use
   * `1 - providerSuccessRate` from the catalog.
   */
  failureRates: Record<string, number>;
  /** Account concurrency limit (IN_PROGRESS requests); null = unlimited, 0 = nothing starts. */
  maxConcurrency: number | null;
}

export interface FalSimOptions {
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Interface to bind. @defaultValue '127.0.0.1' */
  host?: string;
  /** Multiplier on the latency priors; 0 completes requests as fast as possible. @defaultValue 1 */
  timeScale?: number;
  /**
   * Failure probability for every endpoint (number) or per endpoint/model id (`*` = the rest).
   * @defaultValue `1 - providerSuccessRate` of each model
   */
  failureRate?: number | Record<string, number>;
  /** Account concurrency limit. @defaultValue unlimited */
  maxConcurrency?: number;
  /** Base URL put in response/status/file URLs. @defaultValue derived from each request's Host header */
  publicUrl?: string;
  /** Uniform random source for latency, failures and default seeds. @defaultValue Math.random */
  random?: RandomSource;
  /** Clock for expiry and timestamps, epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** How long CDN files (outputs and uploads) stay downloadable, ms. @defaultValue 3_600_000 */
  fileTtlMs?: number;
  /** Most CDN bytes kept in memory; the oldest files are dropped beyond it. @defaultValue 1 GiB */
  maxStoredBytes?: number;
  /** How long a completed request can still be read, ms (fal keeps results 1 h). @defaultValue 3_600_000 */
  resultTtlMs?: number;
  /** `fetch` used for input image URLs and webhook deliveries. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * `rendered`: every output drawn for its prompt and seed (deterministic per seed, as fal's);
   * `prerendered`: one image per size and format, reused (benchmarks: fluxq's cost, not sharp's).
   * @defaultValue 'rendered'
   */
  images?: ImageMode;
}

/** A running simulator. */
export interface FalSim {
  /** Where the sim listens, e.g. `http://127.0.0.1:41234` (`publicUrl` only changes URLs in responses). */
  readonly url: string;
  readonly port: number;
  stats(): SimStats;
  /** Replaces the fault rules. */
  setFaults(rules: FaultRule[]): void;
  /** Current config (time scale, failure-rate overrides, concurrency limit). */
  config(): SimConfig;
  /** Changes config for requests submitted from now on (the concurrency limit applies at once). */
  configure(patch: SimConfigPatch): SimConfig;
  /** Sets the failure rate of an endpoint id, model id, or `*` (which clears the others). */
  setFailureRate(target: string, rate: number): void;
  /** Zeroes stats and forgets requests, files and faults; config stays. */
  reset(): void;
  /** JWKS with the public key that signs webhook deliveries. */
  jwks(): { keys: JsonWebKey[] };
  /** Stops the server, drops open connections and timers. Idempotent. */
  close(): Promise<void>;
}

export interface SimConfigPatch {
  timeScale?: number;
  /** A number replaces every override; a record is merged into them. */
  failureRate?: number | Record<string, number>;
  maxConcurrency?: number | null;
}
