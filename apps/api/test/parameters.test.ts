import { makeDataUri, makeImage } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';

/**
 * Every DESIGN §4 parameter rule through the HTTP API, read back from dry-run quotes
 * (the normalized request each entry point would enqueue), on all three entry points.
 */
let api: ApiHarness;
let landscape: string;

beforeAll(async () => {
  api = await startApi();
  landscape = makeDataUri(await makeImage({ width: 1600, height: 900, format: 'png' }), 'image/png');
});
afterAll(async () => api?.close());

async function quote(path: string, body: Record<string, unknown>) {
  const response = await fetch(`${api.url}${path}?dry_run=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { input: Record<string, unknown>; cost: { megapixels: number } };
}

const rules: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
  ['size WxH is exact', { size: '1536x1024' }, { size: '1536x1024' }],
  ['size W:H is an aspect ratio at 1 MP', { size: '16:9' }, { size: '1360x768' }],
  [
    'size wins over aspect_ratio and resolution',
    { size: '512x512', aspect_ratio: '16:9', resolution: '2K' },
    { size: '512x512' },
  ],
  ['aspect_ratio snaps to the nearest supported ratio', { aspect_ratio: '2.39:1' }, { size: '1568x672' }],
  ['resolution snaps to a tier', { resolution: '0.5K' }, { size: '512x512' }],
  ['4K is capped at 2048x2048', { resolution: '4K' }, { size: '2048x2048' }],
  ['generations default to 1024x1024', {}, { size: '1024x1024' }],
  ['n up to 10', { n: 10 }, { n: 10 }],
  ['seed is kept', { seed: 1234 }, { seed: 1234 }],
  ['response_format b64_json', { response_format: 'b64_json' }, { response_format: 'b64_json' }],
  ['output_format jpg means jpeg', { output_format: 'jpg' }, { output_format: 'jpeg' }],
  [
    'output_format avif',
    { output_format: 'avif', output_compression: 40 },
    { output_format: 'avif', output_compression: 40 },
  ],
  ['cfg_scale becomes guidance_scale', { cfg_scale: 4.5 }, { guidance_scale: 4.5 }],
  [
    'prompt_enhancement on becomes enable_prompt_expansion',
    { prompt_enhancement: 'on' },
    { enable_prompt_expansion: true },
  ],
  [
    'enable_safety_checker and sync_mode pass',
    { enable_safety_checker: false, sync_mode: true },
    { enable_safety_checker: false, sync_mode: true },
  ],
  [
    'other scalars pass through to fal',
    { acceleration: 'high', num_inference_steps: 12 },
    { passthrough: { acceleration: 'high', num_inference_steps: 12 } },
  ],
];

describe.each(['/v1/jobs', '/v1/images/generations'])('parameter rules on %s', (path) => {
  it.each(rules)('%s', async (_title, params, expected) => {
    const { input } = await quote(path, { prompt: 'a red fox', ...params });
    expect(input).toMatchObject(expected);
  });
});

describe('parameter rules for edits', () => {
  it('keeps the first input aspect ratio at 1 MP by default', async () => {
    const { input } = await quote('/v1/images/edits', { prompt: 'autumn', images: [landscape] });
    expect(input).toMatchObject({ size: '1360x768' });
  });

  it('applies resolution to the input aspect ratio', async () => {
    const { input } = await quote('/v1/jobs', { prompt: 'autumn', images: [landscape], resolution: '0.5K' });
    const [width, height] = String(input.size).split('x').map(Number);
    expect(Math.abs(width! / height! - 16 / 9)).toBeLessThan(0.1);
    expect(Math.min(width!, height!)).toBeGreaterThanOrEqual(512);
  });

  it('takes multipart string fields through the same normalizer', async () => {
    const form = new FormData();
    form.append('prompt', 'autumn');
    form.append('n', '6');
    form.append('seed', '7');
    form.append('cfg_scale', '3');
    form.append('prompt_enhancement', 'off');
    form.append('size', '1024x1024');
    const png = await makeImage({ width: 640, height: 480, format: 'png' });
    form.append('image', new Blob([png], { type: 'image/png' }), 'source.png');
    const response = await fetch(`${api.url}/v1/images/edits?dry_run=true`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { input: Record<string, unknown>; cost: { megapixels: number } };
    expect(body.input).toMatchObject({
      n: 6,
      seed: 7,
      guidance_scale: 3,
      enable_prompt_expansion: false,
      size: '1024x1024',
    });
    // one reference (1 MP minimum) + six 1 MP outputs
    expect(body.cost.megapixels).toBe(7);
  });
});
