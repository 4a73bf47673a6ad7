import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type RedisSentinelSet, repoRoot, startRedisSentinelSet } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobsThroughFailover } from './redis-failover.js';
import { type Stack, startStack } from './stack.js';

/**
 * The whole system behind Redis Sentinel (1 master, 1 replica, 3 sentinels): jobs and a batch
 * succeed; the master is killed, the sentinels promote the replica, and every accepted job
 * still succeeds with the same API and worker processes.
 */

let sentinels: RedisSentinelSet;
let stack: Stack;

beforeAll(async () => {
  sentinels = await startRedisSentinelSet({ downAfterMs: 1_000 });
  stack = await startStack({
    workers: 2,
    redisEnv: { REDIS_SENTINELS: sentinels.sentinelList, REDIS_SENTINEL_NAME: sentinels.name },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await sentinels?.stop();
});

describe('Redis Sentinel', () => {
  it('runs jobs and batches through a sentinel failover with nothing lost', async ({ annotate }) => {
    const { stallMs, accepted, refused } = await runJobsThroughFailover(stack, async () => {
      const { killed, promoted } = await sentinels.killMaster();
      console.log(`sentinel: killed master 127.0.0.1:${killed.port}, promoted 127.0.0.1:${promoted.port}`);
    });
    console.log(
      `sentinel failover: work stalled ${stallMs} ms; ${accepted} jobs accepted, ${refused} refused (503)`,
    );
    mkdirSync(join(repoRoot, '.data'), { recursive: true });
    appendFileSync(
      join(repoRoot, '.data', 'failover-stall.log'),
      `${new Date().toISOString()} sentinel stall_ms=${stallMs} accepted=${accepted} refused=${refused}\n`,
    );
    // Recorded in the test report (vitest annotations) as well as printed.
    await annotate(`sentinel failover stalled work ${stallMs} ms`, 'failover-stall');
    expect(stallMs).toBeLessThan(30_000);
  }, 90_000);
});
