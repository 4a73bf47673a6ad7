import { MODELS } from '@fluxq/core';
import { createSeededRandom } from '@fluxq/runtime';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { parseModelInput } from '../src/input-schema.js';
import { createLatencySampler, fitLognormal } from '../src/latency.js';
import { failureRateFor, initialConfig, setFailureRate } from '../src/sim-config.js';

describe('latency model', () => {
  it('fits mu and sigma so that the median is p50 and the 95th percentile is p95', () => {
    const { mu, sigma } = fitLognormal({ p50Ms: 2000, p95Ms: 10_000 });
    expect(Math.exp(mu)).toBeCloseTo(2000);
    expect(Math.exp(mu + 1.645 * sigma)).toBeCloseTo(10_000);
  });

  it('samples a median near p50, scaled by the time scale', () => {
    const sampler = createLatencySampler(createSeededRandom(7));
    const prior = MODELS['flux.2-dev-turbo'].latencyPrior;
    const samples = Array.from({ length: 4001 }, () => sampler.sampleMs(prior, 0.5)).sort((a, b) => a - b);
    const median = samples[2000]!;
    expect(median).toBeGreaterThan(prior.p50Ms * 0.5 * 0.9);
    expect(median).toBeLessThan(prior.p50Ms * 0.5 * 1.1);
    expect(sampler.sampleMs(prior, 0)).toBe(0);
  });

  it('repeats the same samples for the same seed', () => {
    const prior = MODELS['flux.2-dev-flash'].latencyPrior;
    const a = createLatencySampler(createSeededRandom(3));
    const b = createLatencySampler(createSeededRandom(3));
    expect([a.sampleMs(prior, 1), a.sampleMs(prior, 1)]).toEqual([
      b.sampleMs(prior, 1),
      b.sampleMs(prior, 1),
    ]);
  });
});

describe('model input validation', () => {
  it.each([
    [{ prompt: 1 }, 'generate', ['body', 'prompt'], 'string_type'],
    [{ prompt: 'p', image_size: 'huge' }, 'generate', ['body', 'image_size'], 'union_error'],
    [
      { prompt: 'p', image_size: { width: 4096, height: 512 } },
      'generate',
      ['body', 'image_size', 'width'],
      'less_than_equal',
    ],
    [{ prompt: 'p', num_images: 0 }, 'generate', ['body', 'num_images'], 'greater_than_equal'],
    [{ prompt: 'p', output_format: 'gif' }, 'generate', ['body', 'output_format'], 'enum'],
    [{ prompt: 'p', guidance_scale: 21 }, 'generate', ['body', 'guidance_scale'], 'less_than_equal'],
    [{ prompt: 'p', seed: 1.5 }, 'generate', ['body', 'seed'], 'int_type'],
    [{ prompt: 'p' }, 'edit', ['body', 'image_urls'], 'missing'],
    [{ prompt: 'p', image_urls: [] }, 'edit', ['body', 'image_urls'], 'too_short'],
  ] as const)('rejects %j for %s at %j with %s', (input, operation, loc, type) => {
    const parsed = parseModelInput(input, operation);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.detail).toContainEqual(expect.objectContaining({ loc, type }));
  });

  it('keeps only the first four image_urls, as fal does', () => {
    const parsed = parseModelInput({ prompt: 'p', image_urls: ['a', 'b', 'c', 'd', 'e'] }, 'edit');
    expect(parsed.ok && parsed.params.imageUrls).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects a body that is not an object', () => {
    expect(parseModelInput([1], 'generate')).toEqual({
      ok: false,
      detail: [{ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type' }],
    });
  });
});

describe('environment config', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8090, host: '127.0.0.1', timeScale: 1, fileTtlMs: 3_600_000 });
    expect(config.failureRate).toBeUndefined();
    expect(config.maxConcurrency).toBeUndefined();
  });

  it('reads every variable and treats empty strings as unset', () => {
    const config = loadConfig({
      FAL_SIM_PORT: '0',
      FAL_SIM_TIME_SCALE: '0.1',
      FAL_SIM_FAILURE_RATE: '0.2',
      FAL_SIM_MAX_CONCURRENCY: '2',
      FAL_SIM_PUBLIC_URL: 'http://fal-sim:8090',
      FAL_SIM_HOST: '',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      timeScale: 0.1,
      failureRate: 0.2,
      maxConcurrency: 2,
      publicUrl: 'http://fal-sim:8090',
    });
  });

  it.each([
    ['FAL_SIM_PORT', 'abc'],
    ['FAL_SIM_TIME_SCALE', '-1'],
    ['FAL_SIM_FAILURE_RATE', '1.5'],
    ['FAL_SIM_MAX_CONCURRENCY', '2.5'],
    ['FAL_SIM_PUBLIC_URL', 'not a url'],
  ])('names %s when its value %j is bad', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('failure rates', () => {
  const turbo = MODELS['flux.2-dev-turbo'];

  it('uses 1 - providerSuccessRate from the catalog when nothing overrides it', () => {
    expect(failureRateFor(initialConfig({}), 'fal-ai/flux-2/turbo', turbo)).toBeCloseTo(0.08);
  });

  it('prefers the endpoint override, then the model override, then *', () => {
    const config = initialConfig({
      failureRate: { '*': 0.3, 'flux.2-dev-turbo': 0.2, 'fal-ai/flux-2/turbo/edit': 0.1 },
    });
    expect(failureRateFor(config, 'fal-ai/flux-2/turbo/edit', turbo)).toBe(0.1);
    expect(failureRateFor(config, 'fal-ai/flux-2/turbo', turbo)).toBe(0.2);
    expect(failureRateFor(config, 'fal-ai/flux-2/flash', MODELS['flux.2-dev-flash'])).toBe(0.3);
    setFailureRate(config, '*', 0);
    expect(failureRateFor(config, 'fal-ai/flux-2/turbo/edit', turbo)).toBe(0);
  });

  it('rejects a rate outside 0..1', () => {
    expect(() => initialConfig({ failureRate: 1.2 })).toThrow(RangeError);
  });
});
