import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type RedisCluster, redisCommand, repoRoot, startRedisCluster } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobsThroughFailover } from './redis-failover.js';
import { type Stack, startStack } from './stack.js';

/**
 * The whole system on a real Redis Cluster (3 masters, 1 replica each): jobs and a batch
 * succeed, every key is under `{fluxq}` (one slot), and when the master of that slot is
 * killed a replica takes over with nothing lost and no restart of the API or workers.
 */

let cluster: RedisCluster;
let stack: Stack;

beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs: 1_000 });
  stack = await startStack({ workers: 2, redisEnv: { REDIS_CLUSTER_NODES: cluster.nodeList } });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await cluster?.stop();
});

/** Every key on every live master (SCAN, not KEYS: no node is blocked for long). */
async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (const master of await cluster.masters()) {
    let cursor = '0';
    do {
      const [next, batch] = (await redisCommand({ port: master.port }, 'SCAN', cursor, 'COUNT', '1000')) as [
        string,
        string[],
      ];
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

describe('Redis Cluster', () => {
  it('runs jobs and batches through a master failover, and keeps every key in the {fluxq} slot', async ({
    annotate,
  }) => {
    const slot = await cluster.slotOf('{fluxq}');
    const { stallMs, accepted, refused } = await runJobsThroughFailover(stack, async () => {
      const { killed, promoted } = await cluster.killMasterOf(slot);
      console.log(`cluster: killed master 127.0.0.1:${killed.port}, promoted 127.0.0.1:${promoted.port}`);
    });
    console.log(
      `cluster failover: work stalled ${stallMs} ms; ${accepted} jobs accepted, ${refused} refused (503)`,
    );
    mkdirSync(join(repoRoot, '.data'), { recursive: true });
    appendFileSync(
      join(repoRoot, '.data', 'failover-stall.log'),
      `${new Date().toISOString()} cluster stall_ms=${stallMs} accepted=${accepted} refused=${refused}\n`,
    );
    // Recorded in the test report (vitest annotations) as well as printed.
    await annotate(`cluster failover stalled work ${stallMs} ms`, 'failover-stall');
    expect(stallMs).toBeLessThan(30_000);

    // After a full run: keys exist, and all of them hash to the one slot.
    const keys = await allKeys();
    expect(keys.length).toBeGreaterThan(10);
    // The provider table's buckets (one MULTI per finished job) were written on the Cluster too.
    expect(keys.some((key) => key.startsWith('{fluxq}:stats:'))).toBe(true);
    const [live] = await cluster.masters();
    const stray: string[] = [];
    for (const key of keys) {
      if (Number(await redisCommand({ port: live!.port }, 'CLUSTER', 'KEYSLOT', key)) !== slot) {
        stray.push(key);
      }
    }
    expect(stray).toEqual([]);
  }, 90_000);
});
