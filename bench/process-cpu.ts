import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU times in ticks of 1/100 s. */
const TICKS_PER_S = 100;

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; NaN
 * where there is no /proc. Unlike throughput it hardly moves when other work shares the
 * cores, so it shows what a feature costs per job on a busy machine too.
 */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1000;
  } catch {
    return Number.NaN;
  }
}
