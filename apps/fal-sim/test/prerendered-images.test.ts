import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { loadConfig } from '../src/index.js';
import { call, startSim, submit, waitForStatus } from './helpers.js';

/** Submits, waits for COMPLETED and downloads the first output's bytes. */
async function outputOf(sim: FalSim, endpoint: string, input: unknown): Promise<Buffer> {
  const { body } = await submit(sim, endpoint, input);
  await waitForStatus(body.status_url, 'COMPLETED');
  const result = await call(body.response_url);
  expect(result.status).toBe(200);
  return Buffer.from(await (await fetch(result.body.images[0].url)).arrayBuffer());
}

describe('output images', () => {
  let sim: FalSim | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('are drawn per prompt by default', async () => {
    sim = await startSim();
    const a = await outputOf(sim, 'fal-ai/flux-2/turbo', {
      prompt: 'a red kite',
      image_size: 'square',
      seed: 1,
    });
    const b = await outputOf(sim, 'fal-ai/flux-2/turbo', {
      prompt: 'a blue boat',
      image_size: 'square',
      seed: 1,
    });
    expect(a.equals(b)).toBe(false);
  });

  it('in prerendered mode are one image per size, served for every prompt, edits included', async () => {
    sim = await startSim({ images: 'prerendered' });
    const square = { image_size: 'square', seed: 1 };
    const a = await outputOf(sim, 'fal-ai/flux-2/turbo', { prompt: 'a red kite', ...square });
    const b = await outputOf(sim, 'fal-ai/flux-2/turbo', { prompt: 'a blue boat', ...square });
    expect(a.equals(b)).toBe(true);
    const source = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const edited = await outputOf(sim, 'fal-ai/flux-2/turbo/edit', {
      prompt: 'make it green',
      image_urls: [`data:image/png;base64,${source.toString('base64')}`],
      ...square,
    });
    expect(edited.equals(a)).toBe(true);
    // Still the size asked for.
    const wide = await outputOf(sim, 'fal-ai/flux-2/turbo', {
      prompt: 'p',
      image_size: 'landscape_16_9',
      seed: 1,
    });
    const [squareMeta, wideMeta] = await Promise.all([sharp(a).metadata(), sharp(wide).metadata()]);
    expect(wideMeta.width).toBeGreaterThan(wideMeta.height ?? 0);
    expect(squareMeta.width).toBe(squareMeta.height);
  });

  it('in prerendered mode still refuse an unreadable edit input with a 422', async () => {
    sim = await startSim({ images: 'prerendered' });
    const { body } = await submit(sim, 'fal-ai/flux-2/turbo/edit', {
      prompt: 'p',
      image_urls: [`${sim.url}/files/00000000-0000-0000-0000-000000000000/missing.png`],
    });
    await waitForStatus(body.status_url, 'COMPLETED');
    expect((await call(body.response_url)).status).toBe(422);
  });

  it('are chosen by FAL_SIM_IMAGES in the standalone sim', () => {
    expect(loadConfig({}).images).toBe('rendered');
    expect(loadConfig({ FAL_SIM_IMAGES: 'prerendered' }).images).toBe('prerendered');
    expect(() => loadConfig({ FAL_SIM_IMAGES: 'cached' })).toThrow(/FAL_SIM_IMAGES/);
  });
});
