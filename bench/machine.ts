import { cpus, totalmem } from 'node:os';

/** One line describing where a benchmark ran. */
export function describeMachine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = Math.round(totalmem() / 2 ** 30);
  return `${cpu.length} × ${model}, ${memoryGiB} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
}
