import { createSeededRandom } from '@fluxq/runtime';
import { createFalSim, type FalSim, type FalSimOptions } from '../src/index.js';

export const AUTH = { Authorization: 'Key test-id:test-secret' };

/** A sim that completes at once and never fails unless a test says so. */
export function startSim(options: FalSimOptions = {}): Promise<FalSim> {
  return createFalSim({ timeScale: 0, failureRate: 0, random: createSeededRandom(1), ...options });
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on its shape
export type Json = any;

export interface JsonResponse<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch with the fal key, parsing JSON answers. */
export async function call<T = Json>(url: string, init: RequestInit = {}): Promise<JsonResponse<T>> {
  const response = await fetch(url, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } });
  const text = await response.text();
  let body: Json = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Left as text: some tests look at malformed bodies.
  }
  return { status: response.status, headers: response.headers, body };
}

export function submit(
  sim: FalSim,
  endpointId: string,
  input: unknown,
  headers: Record<string, string> = {},
) {
  return call(`${sim.url}/${endpointId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(input),
  });
}

/** Polls `check` until it returns something other than undefined; no fixed sleeps. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the request's status says `status` and returns that status response. */
export function waitForStatus(statusUrl: string, status: 'IN_PROGRESS' | 'COMPLETED' | 'IN_QUEUE') {
  return waitFor(async () => {
    const response = await call(statusUrl);
    return response.body?.status === status ? response : undefined;
  });
}

/** Submits and waits for COMPLETED; returns the envelope and the result response. */
export async function submitAndWait(sim: FalSim, endpointId: string, input: unknown) {
  const queued = await submit(sim, endpointId, input);
  const completed = await waitForStatus(queued.body.status_url, 'COMPLETED');
  const result = await call(queued.body.response_url);
  return { queued: queued.body, completed, result };
}

export async function download(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}
