import { createHash, generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import type { SimRequest } from './request-store.js';
import type { StatsRecorder } from './stats.js';

/** fal's webhook signature headers (fal.md §3). */
export const WEBHOOK_HEADERS = {
  requestId: 'X-Fal-Webhook-Request-Id',
  userId: 'X-Fal-Webhook-User-Id',
  timestamp: 'X-Fal-Webhook-Timestamp',
  signature: 'X-Fal-Webhook-Signature',
} as const;

/** The user id the sim signs as. */
export const SIM_USER_ID = 'fal-sim-user';

/** Delay before each retry, ms at time scale 1 (fal retries 10 times over 2 h; the sim, 4 times). */
const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000];

export interface WebhookSenderDeps {
  fetch: typeof fetch;
  now: () => number;
  stats: StatsRecorder;
  /** Retry delays are multiplied by this (read at each retry). */
  timeScale: () => number;
}

export interface WebhookSender {
  /** Posts the request's outcome to its `fal_webhook` URL, retrying failed deliveries. */
  deliver(request: SimRequest): void;
  /** JWKS holding the verification key, as fal serves at `/.well-known/jwks.json`. */
  jwks(): { keys: JsonWebKey[] };
  close(): void;
}

export function createWebhookSender(deps: WebhookSenderDeps): WebhookSender {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'fal-sim', alg: 'EdDSA', use: 'sig' };
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const attempt = async (url: string, body: string, requestId: string, retry: number): Promise<void> => {
    if (closed) return;
    deps.stats.counters.webhookAttempts += 1;
    let delivered = false;
    try {
      const response = await deps.fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signatureHeaders(privateKey, requestId, body, deps.now()),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(15_000),
      });
      delivered = response.ok;
      await response.body?.cancel();
    } catch {
      delivered = false;
    }
    const delay = RETRY_DELAYS_MS[retry];
    if (delivered || delay === undefined || closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void attempt(url, body, requestId, retry + 1);
    }, delay * deps.timeScale());
    timers.add(timer);
  };

  return {
    deliver(request) {
      if (!request.webhookUrl || !request.result) return;
      void attempt(request.webhookUrl, JSON.stringify(webhookBody(request)), request.id, 0);
    },
    jwks: () => ({ keys: [jwk] }),
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

function webhookBody(request: SimRequest): Record<string, unknown> {
  const ids = { request_id: request.id, gateway_request_id: request.id };
  const result = request.result!;
  if (result.ok) return { ...ids, status: 'OK', payload: result.body };
  return {
    ...ids,
    status: 'ERROR',
    error: `Invalid status code: ${result.error.status}`,
    payload: result.error.body,
  };
}

/** Signs `requestId \n userId \n timestamp \n sha256hex(body)` with Ed25519, hex-encoded. */
function signatureHeaders(key: KeyObject, requestId: string, body: string, nowMs: number) {
  const timestamp = String(Math.floor(nowMs / 1000));
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const message = Buffer.from(`${requestId}\n${SIM_USER_ID}\n${timestamp}\n${bodyHash}`, 'utf8');
  return {
    [WEBHOOK_HEADERS.requestId]: requestId,
    [WEBHOOK_HEADERS.userId]: SIM_USER_ID,
    [WEBHOOK_HEADERS.timestamp]: timestamp,
    [WEBHOOK_HEADERS.signature]: sign(null, message, key).toString('hex'),
  };
}
