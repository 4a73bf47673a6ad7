import type { RandomSource } from '@fluxq/runtime';

/** A standard normal draw (Box-Muller). `1 - u` keeps the logarithm away from 0. */
export function standardNormal(random: RandomSource): number {
  const u1 = 1 - random();
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
