import { describeExit, type ExitInfo } from './child-exit.js';
import type { LineListener } from './line-buffer.js';
import { waitFor } from './wait-for.js';

export interface ServiceReadiness {
  /** Poll this URL until it answers 200. */
  url?: string;
  /** Wait for an output line (stdout or stderr) that matches. */
  logLine?: RegExp;
  /**
   * Wait for an IPC message `{ event: <this> }` from the child (the worker sends
   * `{ event: 'ready' }`): a signal of its own that no LOG_LEVEL can silence.
   */
  ipcEvent?: string;
}

/** Subscribes to the child's IPC messages; returns the unsubscribe. */
export type MessageSubscriber = (listener: (message: unknown) => void) => () => void;

/**
 * Resolves when every readiness condition holds; rejects when the process exits first, the
 * deadline passes (naming what it waited for) or `signal` aborts. Private to spawnService.
 */
export async function waitUntilReady(
  opts: { ready: ServiceReadiness; timeoutMs: number; signal?: AbortSignal | undefined },
  subscribe: (listener: LineListener) => () => void,
  exited: Promise<ExitInfo>,
  subscribeMessages?: MessageSubscriber,
): Promise<void> {
  const { ready, timeoutMs } = opts;
  const conditions: Promise<unknown>[] = [];
  const cleanups: Array<() => void> = [];
  const aborter = new AbortController();
  cleanups.push(() => aborter.abort());
  const waiting: string[] = [];
  const { logLine, url, ipcEvent } = ready;
  if (ipcEvent) {
    if (!subscribeMessages) throw new Error('ipcEvent readiness needs an IPC channel to the child');
    waiting.push(`an IPC message { event: '${ipcEvent}' }`);
    conditions.push(
      new Promise<void>((resolve) => {
        const unsubscribe = subscribeMessages((message) => {
          if ((message as { event?: unknown } | null)?.event === ipcEvent) resolve();
        });
        cleanups.push(unsubscribe);
      }),
    );
  }
  if (logLine) {
    waiting.push(`a log line matching ${logLine}`);
    conditions.push(
      new Promise<void>((resolve) => {
        const unsubscribe = subscribe((line) => {
          logLine.lastIndex = 0;
          if (logLine.test(line)) resolve();
        });
        cleanups.push(unsubscribe);
      }),
    );
  }
  if (url) {
    waiting.push(`${url} to answer 200`);
    conditions.push(
      waitFor(
        async () => {
          const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
          await response.body?.cancel();
          return response.status === 200;
        },
        { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 100, signal: aborter.signal },
      ),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(conditions),
      exited.then((exit) =>
        Promise.reject(new Error(`exited with ${describeExit(exit)} before it was ready`)),
      ),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`was not ready within ${timeoutMs} ms (waiting for ${waiting.join(' and ')})`)),
          timeoutMs,
        );
      }),
      new Promise((_, reject) => {
        const { signal } = opts;
        if (!signal) return;
        if (signal.aborted) reject(signal.reason);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }),
    ]);
  } finally {
    clearTimeout(timer);
    for (const cleanup of cleanups) cleanup();
  }
}
