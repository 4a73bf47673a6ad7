import { Redis } from 'ioredis';
import { measureFluxqEndToEnd } from './end-to-end.js';
import type { BenchStack } from './harness.js';

export interface ShardLoad {
  /** Jobs per second the whole system reached (HTTP → worker → fal-sim at zero latency → stored). */
  jobsPerSecond: number;
  /** Redis CPU (user + sys) over the run, as a share of one core. */
  redisCpuShare: number;
  /** Redis CPU time per job, ms. */
  redisCpuMsPerJob: number;
  /** Jobs per second at which the one Redis shard would be at 100 % of its core (1 / CPU per job). */
  shardCeilingJobsPerSecond: number;
}

/** `used_cpu_sys + used_cpu_user` from `INFO cpu`, seconds. */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return read('used_cpu_sys') + read('used_cpu_user');
}

/**
 * Runs `count` jobs end to end with every worker already started, and reads Redis's own CPU
 * accounting around the run. Redis executes commands on one thread, so CPU per job bounds what a
 * single shard (and so the single `{fluxq}` slot) can carry, whatever the number of workers.
 */
export async function measureRedisShard(
  stack: BenchStack,
  count: number,
  submitters: number,
): Promise<ShardLoad> {
  const admin = new Redis(stack.redis.url);
  try {
    const cpuBefore = await redisCpuSeconds(admin);
    const started = performance.now();
    const jobsPerSecond = await measureFluxqEndToEnd(stack, count, submitters);
    const wallS = (performance.now() - started) / 1000;
    const cpuS = (await redisCpuSeconds(admin)) - cpuBefore;
    const perJobS = cpuS / count;
    return {
      jobsPerSecond,
      redisCpuShare: cpuS / wallS,
      redisCpuMsPerJob: perJobS * 1000,
      shardCeilingJobsPerSecond: perJobS > 0 ? 1 / perJobS : Number.POSITIVE_INFINITY,
    };
  } finally {
    await admin.quit();
  }
}
