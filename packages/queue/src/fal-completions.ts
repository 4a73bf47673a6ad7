import { claimFalWebhook, releaseFalWebhook } from '@fluxq/store';
import type { Redis } from 'ioredis';
import { QUEUE_PREFIX } from './names.js';

/**
 * Wake-ups from the API (which receives fal's completion webhooks) to the workers (which wait
 * on fal requests): messaging, so the queue's; the webhook claims are @fluxq/store's records. A message is only a hint that a request ended: the worker still reads the
 * outcome from fal. Pub/sub drops messages while a subscriber is disconnected, so waiters
 * always have a timeout and poll fal after it, as they would without webhooks.
 */

/** Pub/sub channel of fal completions; payload JSON `{requestId, status}`. */
export const FAL_COMPLETIONS_CHANNEL = `${QUEUE_PREFIX}:fal-completions`;

export type FalCompletionStatus = 'OK' | 'ERROR';

export interface FalCompletion {
  requestId: string;
  status: FalCompletionStatus;
}

/** Announces that fal request `requestId` ended. */
export async function publishFalCompletion(redis: Redis, completion: FalCompletion): Promise<void> {
  const message: FalCompletion = { requestId: completion.requestId, status: completion.status };
  await redis.publish(FAL_COMPLETIONS_CHANNEL, JSON.stringify(message));
}

/**
 * fal's webhooks as the API receives them: each claimed once (the claim is a record of
 * @fluxq/store), then announced to the workers (this channel).
 */
export interface FalWebhookInbox {
  claim(requestId: string): Promise<boolean>;
  release(requestId: string): Promise<void>;
  publish(completion: FalCompletion): Promise<void>;
}

export function createFalWebhookInbox(redis: Redis): FalWebhookInbox {
  return {
    claim: (requestId) => claimFalWebhook(redis, requestId),
    release: (requestId) => releaseFalWebhook(redis, requestId),
    publish: (completion) => publishFalCompletion(redis, completion),
  };
}

export interface FalCompletionListenerOptions {
  /**
   * A completion that arrives before anyone waits on its request (the webhook beat the
   * worker to `wait`) is remembered this long, and a later `wait` ends at once. 0 = not at all.
   * @defaultValue 60_000
   */
  rememberMs?: number;
  /** Most completions remembered; the oldest go first. @defaultValue 10_000 */
  maxRemembered?: number;
}

export interface FalCompletionListener {
  /** Resolves once the channel is subscribed (messages published before that are missed). */
  ready(): Promise<void>;
  /**
   * `'completed'` as soon as a completion of `requestId` arrives (or one arrived within
   * `rememberMs` before the call), `'timeout'` after `timeoutMs`. Rejects with the signal's
   * reason when `signal` aborts.
   */
  wait(requestId: string, timeoutMs: number, signal?: AbortSignal): Promise<'completed' | 'timeout'>;
  /**
   * Unsubscribes and ends pending waits with `'timeout'` (their callers then poll fal, as
   * after any timeout). The connection stays open: whoever created it quits it.
   */
  close(): Promise<void>;
}

interface Waiter {
  settle(outcome: 'completed' | 'timeout'): void;
}

/**
 * One SUBSCRIBE for the process on `subscriber`, a connection of its own (a subscribed
 * connection can run nothing else), fanned out to waiters by request id.
 */
export function createFalCompletionListener(
  subscriber: Redis,
  options: FalCompletionListenerOptions = {},
): FalCompletionListener {
  const rememberMs = options.rememberMs ?? 60_000;
  const maxRemembered = options.maxRemembered ?? 10_000;
  const waiters = new Map<string, Set<Waiter>>();
  /** requestId → when its completion arrived, oldest first (Map keeps insertion order). */
  const recent = new Map<string, number>();
  let closed = false;

  const remember = (requestId: string) => {
    if (rememberMs <= 0) return;
    const now = Date.now();
    recent.delete(requestId);
    recent.set(requestId, now);
    for (const [id, at] of recent) {
      if (recent.size <= maxRemembered && now - at < rememberMs) break;
      recent.delete(id);
    }
  };

  const completedRecently = (requestId: string) => {
    const at = recent.get(requestId);
    return at !== undefined && Date.now() - at < rememberMs;
  };

  const onMessage = (channel: string, message: string) => {
    if (channel !== FAL_COMPLETIONS_CHANNEL) return;
    const requestId = parseRequestId(message);
    if (requestId === undefined) return;
    const set = waiters.get(requestId);
    if (!set) {
      remember(requestId);
      return;
    }
    for (const waiter of [...set]) waiter.settle('completed');
  };
  subscriber.on('message', onMessage);
  const subscribed = subscriber.subscribe(FAL_COMPLETIONS_CHANNEL).then(() => undefined);
  // ready() reports a failure; nobody may call it, so it must not surface as unhandled.
  subscribed.catch(() => {});

  return {
    ready: () => subscribed,
    wait(requestId, timeoutMs, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        if (closed) {
          resolve('timeout');
          return;
        }
        if (completedRecently(requestId)) {
          recent.delete(requestId);
          resolve('completed');
          return;
        }
        const cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const set = waiters.get(requestId);
          set?.delete(waiter);
          if (set?.size === 0) waiters.delete(requestId);
        };
        const waiter: Waiter = {
          settle(outcome) {
            cleanup();
            resolve(outcome);
          },
        };
        const onAbort = () => {
          cleanup();
          reject(signal?.reason);
        };
        const timer = setTimeout(() => waiter.settle('timeout'), Math.max(0, timeoutMs));
        signal?.addEventListener('abort', onAbort, { once: true });
        const set = waiters.get(requestId) ?? new Set<Waiter>();
        waiters.set(requestId, set);
        set.add(waiter);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      subscriber.off('message', onMessage);
      for (const set of [...waiters.values()]) for (const waiter of [...set]) waiter.settle('timeout');
      waiters.clear();
      recent.clear();
      if (subscriber.status === 'ready') {
        await subscriber.unsubscribe(FAL_COMPLETIONS_CHANNEL).catch(() => {});
      }
    },
  };
}

function parseRequestId(message: string): string | undefined {
  try {
    const parsed = JSON.parse(message) as { requestId?: unknown };
    return typeof parsed?.requestId === 'string' && parsed.requestId ? parsed.requestId : undefined;
  } catch {
    return undefined;
  }
}
