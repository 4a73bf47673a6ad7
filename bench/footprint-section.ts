import { startBenchStack } from './harness.js';
import { describeMachine } from './machine.js';
import { type CommandCost, measureCommandsPerJob, measureMemoryFootprint } from './redis-footprint.js';
import { recordSection } from './report.js';

const FOOTPRINT_LINES = Number(process.env.BENCH_FOOTPRINT_LINES ?? 50_000);
const COMMAND_JOBS = Number(process.env.BENCH_COMMAND_JOBS ?? 300);
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const commandsLine = (name: string, cost: CommandCost) =>
  `| ${name} | ${fmt(cost.perJob, 1)} | ${fmt(cost.scriptsPerJob, 1)} | ${cost.top
    .filter((t) => t.perJob >= 0.05)
    .map((t) => `${t.command} ${fmt(t.perJob, 1)}`)
    .join(', ')} |`;

/**
 * Where Redis memory and commands go per job (issue 16, step 1), recorded as the `footprint`
 * section: a 50,000-line batch accepted with no worker (memory by key family, next to raw
 * BullMQ addBulk of the same payloads), then 300 single submits and their processing.
 */
export async function footprintBench(): Promise<void> {
  const stack = await startBenchStack();
  try {
    console.log(`footprint: a ${fmt(FOOTPRINT_LINES)}-line batch, memory by key family …`);
    const memory = await measureMemoryFootprint(stack, FOOTPRINT_LINES);
    console.log(`footprint: commands per job, ${COMMAND_JOBS} jobs …`);
    const commands = await measureCommandsPerJob(stack, COMMAND_JOBS);
    const familyRows = memory.families.map(
      (f) => `| \`${f.family}\` | ${fmt(f.keys)} | ${fmt(f.bytes / memory.jobs, 0)} |`,
    );
    const body = [
      '## Redis footprint per job: memory by key family, commands per job',
      '',
      `Command: \`npm run bench\` (or \`BENCH_ONLY=footprint npm run bench\`) · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
      '',
      `A ${fmt(memory.jobs)}-line batch (tiny text-to-image lines, \`POST /v1/batches\`, no worker running):`,
      `\`used_memory\` after minus before, per queued job: **${fmt(memory.usedMemoryPerJob)} B** (raw BullMQ`,
      `\`addBulk\` of the same payloads, same Redis, flushed first: ${fmt(memory.rawPerJob)} B; ${fmt(memory.usedMemoryPerJob / memory.rawPerJob, 2)}×).`,
      'By key family (ids replaced by `*`; `MEMORY USAGE … SAMPLES 0` on up to 200 keys of a family, scaled by its key count):',
      '',
      '| key family | keys | bytes per job |',
      '|---|---|---|',
      ...familyRows,
      '',
      `Commands Redis ran per job (\`INFO commandstats\` deltas, commands inside scripts counted too; ${fmt(COMMAND_JOBS)} jobs):`,
      '',
      '| path | commands per job | script calls per job | top commands per job |',
      '|---|---|---|---|',
      commandsLine('submit (`POST /v1/jobs`, one at a time, no worker)', commands.submit),
      commandsLine(
        'worker (those jobs to `succeeded`, fal-sim at zero latency; a worker start and stop taken off)',
        commands.worker,
      ),
    ].join('\n');
    console.log(`\n${body}\n`);
    await recordSection('footprint', body);
  } finally {
    await stack.close();
  }
}
