import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { summarizeCpuProfile } from './cpu-profile-top.js';
import { measureFluxqEndToEnd } from './end-to-end.js';
import { startBenchStack } from './harness.js';
import { processCpuMs } from './process-cpu.js';

/**
 * `npm run bench:profile`: the end-to-end benchmark's run (fal-sim at zero latency in
 * prerendered mode, one worker of concurrency 50, 16 submitters) with a CPU profile of
 * each process: the API and the worker through a preload module (cpu-profile-preload.mjs), this process (fal-sim and
 * the submitting clients) through the inspector. Prints jobs/s, CPU ms per job of each
 * process (Redis included) and each profile's top frames. Profiles land in PROFILE_DIR.
 */
const JOBS = Number(process.env.BENCH_E2E_JOBS ?? 600);
const WORKER_CONCURRENCY = 50;
const dir = process.env.PROFILE_DIR ?? join(process.cwd(), '.profiles', new Date().toISOString());

/** node refuses `--cpu-prof` in NODE_OPTIONS: a preload module profiles the service instead. */
const preload = fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url));
const cpuProf = (name: string) => ({ NODE_OPTIONS: `--import ${preload}`, CPU_PROFILE_DIR: join(dir, name) });

async function redisPid(url: string): Promise<number> {
  const redis = new Redis(url);
  try {
    return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stack = await startBenchStack({ simImages: 'prerendered', apiEnv: cpuProf('api') });
  const worker = await stack.startWorker(WORKER_CONCURRENCY, cpuProf('worker'));
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  const pids = {
    api: stack.api.pid,
    worker: worker.pid,
    'bench (fal-sim + clients)': process.pid,
    redis: await redisPid(stack.redis.url),
  };
  // A short warm-up: compiled code and open connections, as in a process that has run a while.
  await measureFluxqEndToEnd(stack, 50, 16);
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMs(pid)]));
  await session.post('Profiler.start');
  const perSecond = await measureFluxqEndToEnd(stack, JOBS, 16);
  const { profile } = await session.post('Profiler.stop');
  const cpu = Object.entries(pids).map(([name, pid]) => ({
    process: name,
    cpuMsPerJob: (processCpuMs(pid) - before[name]!) / JOBS,
  }));
  await mkdir(join(dir, 'bench'), { recursive: true });
  await writeFile(join(dir, 'bench', 'bench.cpuprofile'), JSON.stringify(profile));
  session.disconnect();
  await stack.close();

  console.log(`end to end: ${JOBS} jobs, ${perSecond.toFixed(1)} jobs/s`);
  console.table(cpu.map((c) => ({ ...c, cpuMsPerJob: c.cpuMsPerJob.toFixed(2) })));
  for (const name of ['worker', 'api', 'bench']) {
    const files = (await readdir(join(dir, name))).filter((f) => f.endsWith('.cpuprofile'));
    for (const file of files) {
      // The profile covers the whole process, warm-up and start included.
      const summary = summarizeCpuProfile(join(dir, name, file));
      console.log(`\n## ${name}: ${file} (${summary.totalMs.toFixed(0)} ms sampled)`);
      console.log('self:');
      for (const f of summary.self) console.log(`  ${f.percent.toFixed(1).padStart(5)}%  ${f.frame}`);
      console.log('inclusive:');
      for (const f of summary.inclusive) console.log(`  ${f.percent.toFixed(1).padStart(5)}%  ${f.frame}`);
      console.log('self by origin:');
      for (const f of summary.byOrigin) console.log(`  ${f.percent.toFixed(1).padStart(5)}%  ${f.frame}`);
      console.log('busy time by area (nearest frame of a named area on the stack):');
      for (const f of summary.byArea) console.log(`  ${f.percent.toFixed(1).padStart(5)}%  ${f.frame}`);
    }
  }
  console.log(`\nprofiles in ${dir}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
