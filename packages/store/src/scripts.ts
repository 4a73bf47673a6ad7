import { createScriptRunner } from '@fluxq/runtime';

/**
 * The package's Lua scripts, each in `src/lua/<name>.lua` with its KEYS and ARGV documented
 * at its top; the build copies them next to the JS.
 */
const lua = (name: string) => new URL(`./lua/${name}.lua`, import.meta.url);
/** `finishIfDone`, shared by the batch scripts. */
const batchFinish = lua('batch-finish-if-done');

/** The prefix of the package's script commands: script `name` runs as command `fluxqStore_<name>`. */
export const SCRIPT_PREFIX = 'fluxqStore';

/** Runs script `name` on a client (defined on that client the first time). */
export const runScript = createScriptRunner(SCRIPT_PREFIX, {
  batchMarkCancelling: { file: lua('batch-mark-cancelling'), include: [batchFinish], keys: 3 },
  batchMarkInProgress: { file: lua('batch-mark-in-progress'), include: [batchFinish], keys: 2 },
  batchRecordOutcome: { file: lua('batch-record-outcome'), include: [batchFinish], keys: 2 },
  batchRecordOutcomes: { file: lua('batch-record-outcomes'), include: [batchFinish], keys: 2 },
  idempotencyReplace: { file: lua('idempotency-replace'), keys: 1 },
  /** KEYS: one per job (no fixed count). */
  jobCancelQueued: { file: lua('job-cancel-queued') },
  /** KEYS: one per job, then the tenant's job index. */
  jobCreateMany: { file: lua('job-create-many') },
  jobGuardedUpdate: { file: lua('job-guarded-update'), keys: 1 },
  requestLogTake: { file: lua('request-log-take'), keys: 1 },
  spendReserve: { file: lua('spend-reserve'), keys: 1 },
  spendRelease: { file: lua('spend-release'), keys: 1 },
  tenantJobIdsAfter: { file: lua('tenant-job-ids-after'), keys: 1 },
  tenantQueuedAdd: { file: lua('tenant-queued-add'), keys: 1 },
  tenantQueuedAddMany: { file: lua('tenant-queued-add-many'), keys: 1 },
  webhookDeliveryCreate: { file: lua('webhook-delivery-create'), keys: 3 },
  webhookSecretRotate: { file: lua('webhook-secret-rotate'), keys: 1 },
});
