import type { ChildProcess } from 'node:child_process';
import { onProcessExit } from './exit-hooks.js';

export interface ExitInfo {
  /** Exit code, or `null` when a signal ended the process. */
  code: number | null;
  /** The signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
}

/** Exit tracking for a spawned child; private to this package. */
export interface TrackedChild {
  /** Resolves once the process has exited and its output is fully read. Never rejects. */
  exited: Promise<ExitInfo>;
  /** The exit, once it happened. */
  exitInfo(): ExitInfo | undefined;
  /** Sends `signal`, then SIGKILL if the process is still alive after `graceMs`. */
  terminate(signal: NodeJS.Signals, graceMs: number): Promise<ExitInfo>;
}

/**
 * Tracks a child's exit, and SIGKILLs it if this process exits first, so a test that
 * forgets to stop a server (or a crashed launcher) does not leave it running.
 */
export function trackChild(child: ChildProcess): TrackedChild {
  let info: ExitInfo | undefined;
  const cancelExitHook = onProcessExit(() => child.kill('SIGKILL'));
  const exited = new Promise<ExitInfo>((resolve) => {
    const done = (exit: ExitInfo) => {
      if (info) return;
      info = exit;
      cancelExitHook();
      resolve(exit);
    };
    child.once('close', (code, signal) => done({ code, signal }));
    // A process that could not be spawned emits 'error' and may never emit 'close'.
    child.once('error', () => {
      if (child.pid === undefined) done({ code: null, signal: null });
    });
  });

  return {
    exited,
    exitInfo: () => info,
    async terminate(signal, graceMs) {
      if (info) return info;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace-over'>((resolve) => {
        timer = setTimeout(() => resolve('grace-over'), graceMs);
      });
      try {
        if ((await Promise.race([exited, graceOver])) === 'grace-over') child.kill('SIGKILL');
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** "code 1", "signal SIGKILL": for messages. */
export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? 'unknown'}`;
}
