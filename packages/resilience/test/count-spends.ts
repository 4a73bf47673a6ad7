/** Calls `tryConsume(series)` `times` times in a row and counts the spends allowed. */
export async function countSpends(
  budget: { tryConsume(series: string): Promise<boolean> },
  series: string,
  times: number,
): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < times; i++) if (await budget.tryConsume(series)) allowed++;
  return allowed;
}
