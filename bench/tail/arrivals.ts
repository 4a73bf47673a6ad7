import { createSeededRandom } from '@fluxq/testing';

/**
 * Poisson arrivals: `count` start offsets (ms from the first) at `perSecond` on average.
 * Seeded, so NAIVE and FLUXQ of a model see the same schedule.
 */
export function poissonArrivals(count: number, perSecond: number, seed: number): number[] {
  const random = createSeededRandom(seed);
  const offsets: number[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    offsets.push(at);
    at += (-Math.log(1 - random()) / perSecond) * 1000;
  }
  return offsets;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Starts `job(i)` at each offset (ms after now) and resolves with all their results. */
export async function runOnSchedule<T>(
  offsets: readonly number[],
  job: (i: number) => Promise<T>,
): Promise<T[]> {
  const started = performance.now();
  const running: Promise<T>[] = [];
  for (let i = 0; i < offsets.length; i++) {
    const wait = started + offsets[i]! - performance.now();
    if (wait > 0) await sleep(wait);
    running.push(job(i));
  }
  return Promise.all(running);
}
