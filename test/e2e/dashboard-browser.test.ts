import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CHROMIUM_PATH,
  launchChromium,
  makeDataUri,
  makeImage,
  repoRoot,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from '@fluxq/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The parts of an <img> read in the page (this file is typed without the DOM library). */
type Img = { complete: boolean; naturalWidth: number };
// biome-ignore lint/suspicious/noExplicitAny: the page's global, typed loosely outside the DOM library
declare const document: any;

import { type Stack, startStack } from './stack.js';

/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against
 * the whole stack: tenant acme submits a batch of 20 and one edit; the page shows the
 * batch's progress bar reaching 100 %, the edit's output image in its detail view, and a
 * webhook delivery resent from the page gains an attempt. Tenant globex, with its own key,
 * sees none of it. Screenshots go to test-artifacts/; UPDATE_DOCS_SCREENSHOT=1 refreshes docs/dashboard.png.
 */

const A_KEY = 'fq_acme_dashboard_key';
const B_KEY = 'fq_globex_dashboard_key';
const ARTIFACTS = join(repoRoot, 'test-artifacts');

if (!existsSync(CHROMIUM_PATH)) {
  console.error(
    `\n\n!!!!! dashboard browser test SKIPPED: ${CHROMIUM_PATH} is missing. Install it: apt-get install -y chromium (.ci/run does) !!!!!\n\n`,
  );
}

describe.skipIf(!existsSync(CHROMIUM_PATH))('dashboard in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let batchId: string;
  let editId: string;

  const post = async (path: string, body: unknown, key = A_KEY) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
    return (await response.json()) as { id: string };
  };

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    receiver = await startWebhookReceiver();
    stack = await startStack({
      apiEnv: { API_KEYS: `${A_KEY}:acme,${B_KEY}:globex` },
      workerEnv: { HEDGE_PRIORITIES: 'none' },
      // Slow enough that the bar is seen moving, fast enough for a short test.
      sim: { timeScale: 0.02 },
    });
    browser = await launchChromium();
    const requests = Array.from({ length: 20 }, (_, i) => ({
      custom_id: `tile-${i}`,
      model: 'flux.2-dev-turbo',
      prompt: `tile ${i}`,
    }));
    batchId = (await post('/v1/batches', { requests })).id;
    const png = await makeImage({ width: 256, height: 192, format: 'png' });
    editId = (
      await post('/v1/jobs', {
        model: 'flux.2-dev-turbo',
        prompt: 'make it blue',
        image: makeDataUri(png, 'image/png'),
        webhook_url: `${receiver.url}/hooks`,
      })
    ).id;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await receiver?.stop();
  });

  /** A fresh browser context (empty sessionStorage) signed in with `key`. */
  async function signIn(key: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await page.goto(stack.apiUrl);
    await page.locator('#key').fill(key);
    await page.locator('#key-form button').click();
    await page.locator('body[data-ready="true"]').waitFor();
    return page;
  }

  it('shows the batch, the edit and its webhook, and resends it', async () => {
    const page = await signIn(A_KEY);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-start.png'), fullPage: true });
    // The progress bar reaches 100 % as the jobs finish (the page refreshes itself).
    await page.locator(`tr[data-batch="${batchId}"] [data-pct="100"]`).waitFor({ timeout: 60_000 });
    await page.locator(`tr[data-job="${editId}"] .s-succeeded`).waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-done.png'), fullPage: true });

    // The edit's detail view with its output image, loaded.
    await page.locator(`tr[data-job="${editId}"]`).click();
    const output = page.locator('#detail img[data-kind="output"]').first();
    await output.waitFor();
    await page.waitForFunction(
      () => (document.querySelector('#detail img[data-kind="output"]') as Img | null)?.complete,
    );
    expect(await output.evaluate((img: Img) => img.naturalWidth)).toBeGreaterThan(0);
    expect(
      await page
        .locator('#detail img[data-kind="input"]')
        .first()
        .evaluate((img: Img) => img.naturalWidth),
    ).toBe(256);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-detail.png') });
    await page.locator('#detail-close').click();

    // The provider table: once the workers have recorded every job, a row per series used,
    // with this tenant's delivered counts and the latency histograms drawn.
    await waitFor(
      async () => {
        const response = await fetch(`${stack.apiUrl}/v1/stats?window=1h`, {
          headers: { authorization: `Bearer ${A_KEY}` },
        });
        const rows = ((await response.json()) as { data: Array<{ delivered: { jobs: number } }> }).data;
        return rows.reduce((sum, r) => sum + r.delivered.jobs, 0) === 21 || undefined;
      },
      { timeoutMs: 10_000, message: 'the table to hold all 21 jobs' },
    );
    await page.locator('#stats-window').selectOption('1h');
    const generate = page.locator('tr[data-stats-row="flux.2-dev-turbo:generate"][data-delivered-jobs="20"]');
    await generate.waitFor();
    await page.locator('tr[data-stats-row="flux.2-dev-turbo:edit"][data-delivered-jobs="1"]').waitFor();
    expect(await generate.locator('svg[data-chart="fal generation"] rect').count()).toBeGreaterThan(0);
    expect(await generate.locator('svg[data-chart="end-to-end"] rect').count()).toBeGreaterThan(0);
    expect(await generate.textContent()).toContain('n=20');
    await page.locator('#stats').screenshot({ path: join(ARTIFACTS, 'dashboard-stats.png') });
    // The README's screenshot, with every table filled; refreshed only when asked, so a test
    // run leaves the tree clean.
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      await page.screenshot({ path: join(repoRoot, 'docs', 'dashboard.png') });
    }

    // Its webhook delivery: resend it from the page, and the attempt log grows by one.
    const row = page.locator('tr[data-delivery]', { hasText: editId }).first();
    await row.locator('.attempt-count', { hasText: /^[1-9]/ }).waitFor({ timeout: 30_000 });
    const before = Number(await row.locator('.attempt-count').textContent());
    const received = receiver.requests.length;
    await row.locator('button[data-resend]').click();
    await row.locator('.attempt-count', { hasText: String(before + 1) }).waitFor({ timeout: 30_000 });
    expect(receiver.requests.length).toBeGreaterThan(received);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-resent.png'), fullPage: true });
    await page.context().close();
  }, 120_000);

  it("another tenant's key sees none of it", async () => {
    const page = await signIn(B_KEY);
    await expect.poll(() => page.locator('#jobs').textContent()).toBe('No jobs.');
    expect(await page.locator('#batches').textContent()).toBe('No batches.');
    expect(await page.locator('#deliveries').textContent()).toBe('No deliveries.');
    // fal's columns are everyone's; the delivered ones hold none of acme's jobs.
    await page.locator('#stats-window').selectOption('1h');
    await page.locator('tr[data-stats-row="flux.2-dev-turbo:generate"][data-delivered-jobs="0"]').waitFor();
    expect(
      await page.locator('tr[data-stats-row][data-delivered-jobs]:not([data-delivered-jobs="0"])').count(),
    ).toBe(0);
    expect(await page.content()).not.toContain(editId);
    expect(await page.content()).not.toContain(batchId);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-other-tenant.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('renders the API reference at /docs offline', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const outside: string[] = [];
    // Nothing may leave this origin: the reference is bundled.
    page.on('request', (request) => {
      if (!request.url().startsWith(stack.apiUrl) && !request.url().startsWith('data:'))
        outside.push(request.url());
    });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${stack.apiUrl}/docs`);
    // The sidebar lists the document's operations by their summaries (groups start folded but health).
    await page.getByText('Readiness (Redis reachable)').first().waitFor({ timeout: 30_000 });
    expect(await page.innerText('body')).toContain('webhooks');
    await page.screenshot({ path: join(ARTIFACTS, 'docs.png') });
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
