import { createScriptRunner } from '@fluxq/runtime';

/**
 * The package's Lua scripts, each in `src/lua/<name>.lua` with its KEYS and ARGV documented
 * at its top; the build copies them next to the JS.
 */
const lua = (name: string) => new URL(`./lua/${name}.lua`, import.meta.url);

/** Runs script `name` on a client (defined on that client the first time). */
export const runScript = createScriptRunner('fluxqStore', {
  idempotencyReplace: { file: lua('idempotency-replace'), keys: 1 },
  requestLogTake: { file: lua('request-log-take'), keys: 1 },
  spendReserve: { file: lua('spend-reserve'), keys: 1 },
  spendRelease: { file: lua('spend-release'), keys: 1 },
});
