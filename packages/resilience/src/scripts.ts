import { createScriptRunner } from '@fluxq/runtime';

/**
 * The package's Lua scripts, each in `src/lua/<name>.lua` with its KEYS and ARGV documented
 * at its top; `include` puts shared functions before it. The build copies them next to the JS.
 */
const lua = (name: string) => new URL(`./lua/${name}.lua`, import.meta.url);
const windowSums = lua('window-sums');
const tokenBucket = lua('token-bucket');
const breaker = [windowSums, lua('breaker-prelude')];

/** Runs script `name` on a client (defined on that client the first time). */
export const runScript = createScriptRunner('fluxqResilience', {
  budgetSubmit: { file: lua('budget-submit'), keys: 1, include: [windowSums] },
  budgetConsume: { file: lua('budget-consume'), keys: 1, include: [windowSums] },
  tokenBudgetSubmit: { file: lua('token-budget-submit'), keys: 1, include: [tokenBucket] },
  tokenBudgetConsume: { file: lua('token-budget-consume'), keys: 1, include: [tokenBucket] },
  tokenBudgetRead: { file: lua('token-budget-read'), keys: 1, include: [tokenBucket] },
  breakerAcquire: { file: lua('breaker-acquire'), keys: 1, include: breaker },
  breakerSuccess: { file: lua('breaker-success'), keys: 1, include: breaker },
  breakerFailure: { file: lua('breaker-failure'), keys: 1, include: breaker },
  breakerForceOpen: { file: lua('breaker-force-open'), keys: 1, include: breaker },
});
