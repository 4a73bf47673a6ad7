import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, launchChromium } from '@fluxq/testing';
import type { BenchStack } from './harness.js';

export interface DashboardFigures {
  /** HTML, CSS and script of the page (what ships with the API). */
  assetBytes: number;
  /** Everything transferred on first load, API answers included (bodies + headers). */
  firstLoadBytes: number;
  /** Navigation start → all `jobs` rows in the table, ms (median of `runs`). */
  showJobsMs: number;
  runs: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the page's global, this file is typed without the DOM library
declare const document: any;

/**
 * The dashboard's page weight and its time to show `jobs` jobs, in Debian's Chromium
 * (headless, cache disabled, a fresh context per run) against an API holding that many jobs.
 */
export async function measureDashboard(
  stack: BenchStack,
  jobs: number,
  runs = 5,
): Promise<DashboardFigures | undefined> {
  if (!existsSync(CHROMIUM_PATH)) {
    console.error(
      `!!!!! dashboard bench skipped: ${CHROMIUM_PATH} is missing (apt-get install -y chromium) !!!!!`,
    );
    return undefined;
  }
  // Jobs queued without a worker: the list shows them all the same.
  const submit = async () =>
    fetch(`${stack.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flux.2-dev-turbo', prompt: 'bench', priority: 'bulk' }),
    }).then((r) => r.arrayBuffer());
  for (let done = 0; done < jobs; done += 20)
    await Promise.all(Array.from({ length: Math.min(20, jobs - done) }, submit));

  const browser = await launchChromium();
  try {
    const times: number[] = [];
    let assetBytes = 0;
    let firstLoadBytes = 0;
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      const sizes: Promise<{ url: string; bytes: number }>[] = [];
      page.on('requestfinished', (request) =>
        sizes.push(
          request
            .sizes()
            .then((s) => ({ url: request.url(), bytes: s.responseBodySize + s.responseHeadersSize })),
        ),
      );
      await page.goto(stack.apiUrl);
      await page.waitForFunction((n: number) => document.querySelectorAll('tr[data-job]').length >= n, jobs, {
        timeout: 60_000,
        polling: 'raf',
      });
      times.push(await page.evaluate(() => performance.now()));
      if (run === 0) {
        const all = await Promise.all(sizes);
        firstLoadBytes = all.reduce((sum, s) => sum + s.bytes, 0);
        assetBytes = all
          .filter((s) => /\/$|\/dashboard\//.test(new URL(s.url).pathname))
          .reduce((sum, s) => sum + s.bytes, 0);
      }
      await context.close();
    }
    times.sort((a, b) => a - b);
    return { assetBytes, firstLoadBytes, showJobsMs: times[Math.floor(times.length / 2)] as number, runs };
  } finally {
    await browser.close();
  }
}
