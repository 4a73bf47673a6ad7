import { measureAddedLatency } from './added-latency.js';
import { startBenchStack } from './harness.js';
import { describeMachine } from './machine.js';
import { type Row, recordSection, table } from './report.js';

const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 150);
const fmt = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** fluxq's added latency on one synchronous image, recorded as the `latency` section. */
export async function latencyBench(): Promise<void> {
  const stack = await startBenchStack({ simImages: 'prerendered' });
  try {
    await stack.startWorker(50);
    console.log(`added latency: ${LATENCY_REQUESTS} requests, one at a time …`);
    const r = await measureAddedLatency(stack, LATENCY_REQUESTS);
    const rows: Row[] = (['p50Ms', 'p99Ms'] as const).map((q) => ({
      measure: `one image, ${q === 'p50Ms' ? 'p50' : 'p99'}, ms (fluxq: POST /v1/images/generations; baseline: the same sim called directly)`,
      fluxq: fmt(r.fluxq[q]),
      baseline: fmt(r.direct[q]),
      ratio: `+${fmt(r.fluxq[q] - r.direct[q])} ms`,
    }));
    const body = [
      '## Added latency of one synchronous image',
      '',
      `Command: \`npm run bench\` (or \`BENCH_ONLY=latency npm run bench\`) · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
      '',
      table(rows),
      '',
      `${r.requests} requests one at a time, each path in turn (10 of each first, not counted); fal-sim at time scale 0`,
      'in **prerendered** image mode (one 512×512 PNG reused, so neither column pays for drawing it). fluxq: a',
      'separate API process and one worker (status poll 20 ms), the output downloaded from the sim into local',
      'storage and answered as a URL. Baseline: the `@fluxq/fal` queue client against the same sim, status',
      'polled every 20 ms, result read. The last column is fluxq minus baseline at that percentile.',
    ].join('\n');
    console.log(`\n${table(rows)}\n`);
    await recordSection('latency', body);
  } finally {
    await stack.close();
  }
}
