import { measureDashboard } from './dashboard.js';
import { startBenchStack } from './harness.js';
import { describeMachine } from './machine.js';
import { type Row, recordSection, table } from './report.js';

const DASHBOARD_JOBS = 1_000;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The dashboard's page weight and time to show 1,000 jobs, recorded as the `dashboard` section. */
export async function dashboardBench(): Promise<void> {
  const stack = await startBenchStack();
  try {
    console.log(`dashboard: ${fmt(DASHBOARD_JOBS)} jobs in Chromium …`);
    const figures = await measureDashboard(stack, DASHBOARD_JOBS);
    if (!figures) return;
    const rows: Row[] = [
      {
        measure: 'page weight, first load: HTML + CSS + script, bytes',
        fluxq: fmt(figures.assetBytes),
        baseline: '',
        ratio: '',
      },
      {
        measure: `first load with the API answers for ${fmt(DASHBOARD_JOBS)} jobs, bytes transferred`,
        fluxq: fmt(figures.firstLoadBytes),
        baseline: '',
        ratio: '',
      },
      {
        measure: `navigation → ${fmt(DASHBOARD_JOBS)} job rows shown, ms (median of ${figures.runs} cold loads)`,
        fluxq: fmt(figures.showJobsMs),
        baseline: '',
        ratio: '',
      },
    ];
    const body = [
      '## Dashboard',
      '',
      `Command: \`npm run bench\` (or \`BENCH_ONLY=dashboard npm run bench\`) · machine: ${describeMachine()} · ${new Date().toISOString().slice(0, 10)}`,
      '',
      table(rows),
      '',
      "Debian's Chromium, headless, a fresh browser context (empty cache) per load, against an API process",
      `holding ${fmt(DASHBOARD_JOBS)} queued jobs in open mode. The page lists jobs in pages of 100 (10 requests); no`,
      'images are shown for queued jobs, so the bytes are the page itself plus the JSON answers. No framework, no build step.',
    ].join('\n');
    console.log(`\n${table(rows)}\n`);
    await recordSection('dashboard', body);
  } finally {
    await stack.close();
  }
}
