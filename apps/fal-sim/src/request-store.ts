import type { ModelInfo, Operation } from '@fluxq/core';
import type { ModelParams } from './input-schema.js';
import type { ErrorOutcome } from './outcomes.js';
import type { RequestStatus } from './types.js';

/** One entry of a status response's `logs` (fal.md §2.3). */
export interface LogEntry {
  message: string;
  level: 'INFO' | 'ERROR';
  source: 'USER';
  timestamp: string;
}

/** How a request will end, decided at submit so the sim's random draws happen in submit order. */
export type Ending =
  | { kind: 'run' }
  | { kind: 'fail'; outcome: ErrorOutcome; afterMs: number }
  /** Stays IN_PROGRESS until cancelled, reset or closed. */
  | { kind: 'hang' };

export interface RequestPlan {
  queueMs: number;
  runMs: number;
  ending: Ending;
  /** Validated input; undefined when validation failed (the ending then carries the 422). */
  params: ModelParams | undefined;
  /** The seed used when the input gave none. */
  seed: number;
  /** Answer with black images flagged as NSFW. */
  nsfw: boolean;
  /** `X-Fal-Request-Timeout` in ms: the request fails if still queued this long after submit. */
  startTimeoutMs: number | undefined;
}

export type RequestResult =
  | { ok: true; body: Record<string, unknown>; inferenceTime: number }
  | { ok: false; error: ErrorOutcome; inferenceTime: number | undefined };

export interface SimRequest {
  id: string;
  endpointId: string;
  /** `owner/app`: the only part of the endpoint id that status/result/cancel URLs carry. */
  appPath: string;
  model: ModelInfo;
  operation: Operation;
  /** Base URL the client reached the sim at; response and file URLs are built on it. */
  baseUrl: string;
  webhookUrl: string | undefined;
  /** CDN lifetime asked for with `X-Fal-Object-Lifecycle-Preference`, ms; null = never expire. */
  fileTtlMs: number | null | undefined;
  status: RequestStatus;
  /** Submit order; the FIFO under a concurrency limit follows it. */
  ticket: number;
  /** True once the queue phase has elapsed and a runner could take the request. */
  ready: boolean;
  submittedAt: number;
  startedAt: number | undefined;
  completedAt: number | undefined;
  plan: RequestPlan;
  timers: Set<NodeJS.Timeout>;
  logs: LogEntry[];
  result: RequestResult | undefined;
}

/** Requests by id, forgetting completed ones after fal's result retention. */
export interface RequestStore {
  add(request: SimRequest): void;
  get(id: string): SimRequest | undefined;
  values(): IterableIterator<SimRequest>;
  sweep(): void;
  clear(): void;
}

export interface RequestStoreDeps {
  now: () => number;
  /** How long a completed request stays readable, ms. */
  resultTtlMs: number;
}

export function createRequestStore({ now, resultTtlMs }: RequestStoreDeps): RequestStore {
  const requests = new Map<string, SimRequest>();
  const expired = (request: SimRequest) =>
    request.completedAt !== undefined && request.completedAt + resultTtlMs <= now();
  return {
    add(request) {
      requests.set(request.id, request);
    },
    get(id) {
      const request = requests.get(id);
      if (request && expired(request)) {
        requests.delete(id);
        return undefined;
      }
      return request;
    },
    values() {
      return requests.values();
    },
    sweep() {
      for (const [id, request] of requests) if (expired(request)) requests.delete(id);
    },
    clear() {
      requests.clear();
    },
  };
}
