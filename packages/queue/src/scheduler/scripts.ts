import { createScriptRunner } from '@fluxq/runtime';
import { positionKeys, scheduleKeys } from './keys.js';

/**
 * The scheduler's Lua scripts, each a `.lua` file next to this one with its KEYS and ARGV
 * documented at its top; the build copies them next to the JS.
 */
const lua = (name: string) => new URL(`./${name}.lua`, import.meta.url);

/** Runs script `name` on a client (defined on that client the first time). */
export const runScript = createScriptRunner('fluxqScheduler', {
  schedule: { file: lua('schedule'), include: [lua('ticket-of')], keys: scheduleKeys.length },
  position: { file: lua('position'), include: [lua('ticket-of')], keys: positionKeys.length },
  leaseRenew: { file: lua('lease-renew'), keys: 1 },
});
