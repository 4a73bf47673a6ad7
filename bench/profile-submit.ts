import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { redisCommand } from '@fluxq/testing';
import { startBenchStack } from './harness.js';
import { processCpuMs } from './process-cpu.js';
import { measureApiSubmit, type ThroughputResult } from './submit-throughput.js';

/**
 * `npx tsx --conditions=@fluxq/source bench/profile-submit.ts [dir]`: the submit benchmark's load
 * (32 connections of `POST /v1/jobs`) against one API process run with `--cpu-prof`, then the
 * profile's top frames by self and by inclusive time (docs/perf/submit-profile.md).
 */
const DIR = resolve(process.argv[2] ?? 'cpu-profiles');
const DURATION_S = Number(process.env.BENCH_SUBMIT_DURATION_S ?? 8);
const TOP = 25;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** redis-server's CPU time so far (user + system, `INFO cpu`), ms. */
async function redisCpuMs(port: number): Promise<number> {
  const info = String(await redisCommand({ port }, 'INFO', 'cpu'));
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

const frameName = ({ functionName, url, lineNumber }: ProfileNode['callFrame']) => {
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '~/')
    .replace(/^.*\/(apps|packages)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
};

/**
 * Self and inclusive milliseconds per frame name (a recursive frame counts once per sample),
 * over the load only: from the first to the last sample inside `acceptImageJob` (start-up and
 * shutdown left out).
 */
function summarize(profile: Profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stackOf = (id: number) => {
    const names: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      names.push(frameName(byId.get(at)!.callFrame));
    return names;
  };
  const stacks = profile.samples.map(stackOf);
  const inLoad = (names: string[]) => names.some((name) => name.startsWith('acceptImageJob '));
  const first = stacks.findIndex(inLoad);
  const last = stacks.findLastIndex(inLoad);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (let i = first; i <= last; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const names = stacks[i]!;
    self.set(names[0]!, (self.get(names[0]!) ?? 0) + ms);
    for (const name of new Set(names)) inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
  }
  const top = (map: Map<string, number>, keep: (name: string) => boolean) =>
    [...map.entries()]
      .filter(([name]) => name !== '(root)' && name !== '(idle)' && keep(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP);
  // Inclusive time of fluxq's own frames (and express's res.json, the answer's write): where a
  // request's time goes by our call sites, rather than node's stream plumbing they all share.
  const ours = (name: string) => / (apps|packages)\//.test(name) || name.startsWith('json ~/express/');
  return {
    total,
    idle: self.get('(idle)') ?? 0,
    self: top(self, () => true),
    inclusive: top(inclusive, ours),
  };
}

async function main() {
  // `… bench/profile-submit.ts - file.cpuprofile`: only the tables of a profile taken before.
  if (process.argv[3]) return report(process.argv[3], undefined);
  const stack = await startBenchStack({
    simImages: 'prerendered',
    apiNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${DIR}`],
  });
  let result: ThroughputResult;
  let cpuPerRequest = Number.NaN;
  let redisPerRequest = Number.NaN;
  try {
    const cpuBefore = processCpuMs(stack.api.pid);
    const redisBefore = await redisCpuMs(stack.redis.port);
    result = await measureApiSubmit(stack, 32, DURATION_S);
    cpuPerRequest = (processCpuMs(stack.api.pid) - cpuBefore) / result.total;
    redisPerRequest = ((await redisCpuMs(stack.redis.port)) - redisBefore) / result.total;
  } finally {
    // SIGTERM drains and exits, which is when node writes the profile.
    await stack.close();
  }
  console.log(
    `submit: ${Math.round(result.perSecond)} jobs/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
      `errors ${result.errors}; CPU per request (user + system): API ${cpuPerRequest.toFixed(3)} ms, ` +
      `redis-server ${redisPerRequest.toFixed(3)} ms`,
  );
  // The main thread's profile is `….0.NNN.cpuprofile` (tsx's loader thread writes another).
  const files = (await readdir(DIR)).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).sort();
  await report(join(DIR, files.at(-1)!), result.total);
}

/** Prints the profile's top frames as markdown tables; `requests` (when known) gives the busy ms per request. */
async function report(file: string, requests: number | undefined) {
  const { total, idle, self, inclusive } = summarize(JSON.parse(await readFile(file, 'utf8')) as Profile);
  const busy = total - idle;
  // Shares of the busy (non-idle) time: what a request costs the process's one core.
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1)}%`;
  const perRequest = requests ? `, ${(busy / requests).toFixed(3)} ms busy per request` : '';
  console.log(
    `\n${file}: ${Math.round(total)} ms sampled under load, ${Math.round(busy)} ms busy${perRequest}`,
  );
  console.log('\n| self (of busy) | frame |\n|---|---|');
  for (const [name, ms] of self) console.log(`| ${pct(ms)} | \`${name}\` |`);
  console.log('\n| inclusive (of busy), fluxq frames | frame |\n|---|---|');
  for (const [name, ms] of inclusive) console.log(`| ${pct(ms)} | \`${name}\` |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
