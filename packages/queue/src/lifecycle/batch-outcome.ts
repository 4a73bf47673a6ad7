import { isTerminalStatus, type JobRecord } from '@fluxq/core';
import type { BatchStore, BatchTransition } from '@fluxq/store';
import { type EventEmitterDeps, emitBatchEvent } from '../webhooks-queue.js';

export interface BatchOutcomeDeps extends EventEmitterDeps {
  batches: BatchStore;
}

/**
 * Counts a finished job of a batch (its stored, terminal status) and, when that count
 * finished the batch, emits `batch.completed`. Safe to call again for the same job: the
 * store counts each job once, and only the call that made the transition emits.
 */
export async function countBatchOutcome(deps: BatchOutcomeDeps, record: JobRecord): Promise<BatchTransition> {
  if (!record.batch_id || !isTerminalStatus(record.status)) return null;
  const outcome = record.status as 'succeeded' | 'failed' | 'canceled';
  const costMicros = outcome === 'succeeded' ? Math.round(record.cost.usd * 1_000_000) : 0;
  const { transition } = await deps.batches.recordOutcome(record.batch_id, record.id, outcome, costMicros);
  if (transition === 'completed') {
    const batch = await deps.batches.get(record.batch_id);
    if (batch) await emitBatchEvent(deps, batch);
  }
  return transition;
}
