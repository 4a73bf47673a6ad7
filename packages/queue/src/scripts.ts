import { createScriptRunner } from '@fluxq/runtime';

/**
 * The package's Lua scripts in `src/lua/<name>.lua`, each with its KEYS and ARGV documented at
 * its top; the build copies them next to the JS.
 */
const lua = (name: string) => new URL(`./lua/${name}.lua`, import.meta.url);

/** Runs script `name` on a client (defined on that client the first time). */
export const runScript = createScriptRunner('fluxqQueue', {
  jobCreateMany: { file: lua('job-create-many') },
});
