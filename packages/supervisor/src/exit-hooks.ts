/**
 * Synchronous clean-ups to run if this process exits while children are still alive. The
 * one piece of module state in this package, on purpose: the process it guards is global,
 * and one `exit` listener avoids a MaxListeners warning when a test runs many children.
 */
const hooks = new Set<() => void>();

function runHooks(): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // best effort: the process is exiting
    }
  }
}

/** Runs `hook` when the process exits; returns the function that cancels it. */
export function onProcessExit(hook: () => void): () => void {
  if (hooks.size === 0) process.on('exit', runHooks);
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
    if (hooks.size === 0) process.off('exit', runHooks);
  };
}
