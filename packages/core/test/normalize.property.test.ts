import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  FluxqError,
  imageRequestSchema,
  knownOutputSize,
  MAX_INPUT_IMAGES,
  MAX_N,
  MAX_PASSTHROUGH_FIELDS,
  MAX_SIDE,
  MIN_SIDE,
  MODEL_IDS,
  NON_PASSTHROUGH_FIELDS,
  type NormalizedRequest,
  normalizeImageRequest,
  OUTPUT_FORMATS,
  PRIORITIES,
  PROMPT_MAX_CHARS,
  RESERVED_FAL_FIELDS,
  RESOLUTION_TIERS_MP,
  RESPONSE_FORMATS,
  SIDE_MULTIPLE,
  SUPPORTED_ASPECT_RATIOS,
} from '../src/index.js';

/**
 * Properties of THE request normalizer: for any input at all, `normalizeImageRequest`
 * either returns a request that keeps every invariant below, or throws a `FluxqError`
 * whose code is a 4xx. Nothing else (no TypeError, no 5xx code, no bad request let through).
 */

const SEED = 20_251_125;
const RUNS = 2_000;

function expectSide(side: number) {
  expect(Number.isInteger(side)).toBe(true);
  expect(side % SIDE_MULTIPLE).toBe(0);
  expect(side).toBeGreaterThanOrEqual(MIN_SIDE);
  expect(side).toBeLessThanOrEqual(MAX_SIDE);
}

/** The invariants of an accepted request. */
function expectValid(request: NormalizedRequest) {
  expect(MODEL_IDS).toContain(request.model);
  expect(request.operation).toBe(request.images.length > 0 ? 'edit' : 'generate');
  expect(request.images.length).toBeLessThanOrEqual(MAX_INPUT_IMAGES);
  for (const image of request.images) {
    if (image.kind === 'url') expect(image.url).toMatch(/^https?:\/\//);
    else if (image.kind === 'upload') expect(image.id).toMatch(/^upl_[A-Za-z0-9]{8,64}$/);
    else expect(image.base64).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  }
  expect(typeof request.prompt).toBe('string');
  expect(request.prompt.trim().length).toBeGreaterThan(0);
  expect(request.prompt.length).toBeLessThanOrEqual(PROMPT_MAX_CHARS);
  expect(Number.isInteger(request.n)).toBe(true);
  expect(request.n).toBeGreaterThanOrEqual(1);
  expect(request.n).toBeLessThanOrEqual(MAX_N);
  if (request.seed !== undefined) {
    expect(Number.isSafeInteger(request.seed)).toBe(true);
    expect(request.seed).toBeGreaterThanOrEqual(0);
  }
  if (request.output_compression !== undefined) {
    expect(Number.isInteger(request.output_compression)).toBe(true);
    expect(request.output_compression).toBeGreaterThanOrEqual(0);
    expect(request.output_compression).toBeLessThanOrEqual(100);
  }
  if (request.guidance_scale !== undefined) {
    expect(request.guidance_scale).toBeGreaterThanOrEqual(0);
    expect(request.guidance_scale).toBeLessThanOrEqual(20);
  }
  expect(RESPONSE_FORMATS).toContain(request.response_format);
  expect(OUTPUT_FORMATS).toContain(request.output_format);
  expect(PRIORITIES).toContain(request.priority);
  for (const flag of [request.enable_prompt_expansion, request.enable_safety_checker, request.sync_mode]) {
    if (flag !== undefined) expect(typeof flag).toBe('boolean');
  }

  const rule = request.size_rule;
  if (rule.kind === 'exact') {
    expectSide(rule.width);
    expectSide(rule.height);
  } else {
    expect(RESOLUTION_TIERS_MP).toContain(rule.megapixels);
    if (rule.kind === 'ratio') expect(SUPPORTED_ASPECT_RATIOS).toContain(rule.ratio);
  }
  // Whatever the rule, the output size it gives is one fal accepts.
  const size = knownOutputSize(request, { width: 3_000, height: 17 }) ?? { width: 0, height: 0 };
  expectSide(size.width);
  expectSide(size.height);
  expect(request.operation === 'edit' || rule.kind !== 'input').toBe(true);

  const passthrough = Object.entries(request.passthrough);
  expect(passthrough.length).toBeLessThanOrEqual(MAX_PASSTHROUGH_FIELDS);
  for (const [key, value] of passthrough) {
    expect(key).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,63}$/);
    expect(NON_PASSTHROUGH_FIELDS.has(key)).toBe(false);
    expect(Object.hasOwn(RESERVED_FAL_FIELDS, key)).toBe(false);
    expect(['string', 'number', 'boolean']).toContain(typeof value);
    if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
  }

  // The normalized fields pass the request schema themselves.
  const again = imageRequestSchema.safeParse({
    model: request.model,
    prompt: request.prompt,
    n: request.n,
    seed: request.seed,
    response_format: request.response_format,
    output_format: request.output_format,
    output_compression: request.output_compression,
    cfg_scale: request.guidance_scale,
    prompt_enhancement: request.enable_prompt_expansion,
    enable_safety_checker: request.enable_safety_checker,
    sync_mode: request.sync_mode,
    priority: request.priority,
  });
  expect(again.success).toBe(true);
}

/** Accepted and valid, or refused with a 4xx `FluxqError`; anything else fails the property. */
function checkNormalize(input: unknown): void {
  let request: NormalizedRequest;
  try {
    request = normalizeImageRequest(input);
  } catch (err) {
    if (!(err instanceof FluxqError))
      throw new Error(`threw a non-FluxqError: ${String(err)}`, { cause: err });
    const status = ERROR_CODES[err.code];
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(err.status).toBe(status);
    expect(err.message.length).toBeGreaterThan(0);
    // Messages quote the input as text, never a stringified object or function.
    expect(err.message).not.toMatch(/\[native code\]|\[object Object\]/);
    expect(err.param === null || typeof err.param === 'string').toBe(true);
    return;
  }
  expectValid(request);
}

const PNG_URI = 'data:image/png;base64,iVBORw0KGgo=';

/** Values of every JSON-ish kind plus the odd JS ones a caller could hand the normalizer. */
const junk = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    false,
    0,
    -0,
    -1,
    1e308,
    -1e308,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 64,
    '',
    ' ',
    '\u0000',
    '\u202E',
    '🦊',
    '__proto__',
    'constructor',
    'toString',
    '1e3',
    '0x10',
    ' 7 ',
  ),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);

/** Mostly a plausible value, sometimes a hostile one of its own kind, now and then any junk. */
const field = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof(
    { weight: 24, arbitrary: good as fc.Arbitrary<unknown> },
    { weight: 2, arbitrary: bad as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: junk },
  );

const goodImage = fc.oneof(
  fc.constantFrom(PNG_URI, 'data:image/jpeg;base64,/9j/4AAQ', 'upl_abcdefgh12', 'https://example.com/a.png'),
  fc.record({ image_url: fc.constantFrom(PNG_URI, 'https://example.com/b.png') }),
  fc.record({ url: fc.constantFrom(PNG_URI, 'upl_abcdefgh12') }),
);
const badImage = fc.oneof(
  fc.constantFrom(
    'data:image/png;base64,***',
    'data:;base64,A',
    'upl_x',
    'http://127.0.0.1/a.png',
    'https://user:pass@example.com/a.png',
    'file:///etc/passwd',
    'javascript:alert(1)',
    '',
  ),
  fc.record({ image_url: junk }),
  junk,
);
const imageRef = field(goodImage, badImage);

/** Requests that look like real ones: the real field names, plausible and hostile values. */
const requestLike = fc
  .record(
    {
      prompt: field(
        fc
          .oneof(fc.string({ minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 }))
          .map((p) => `a ${p}`),
        fc.constantFrom('', '   ', '\u0000', 'x'.repeat(PROMPT_MAX_CHARS + 1)),
      ),
      model: field(fc.constantFrom(...MODEL_IDS), fc.constantFrom('FLUX.2-DEV', 'sdxl', 'dall-e-3', '')),
      size: field(
        fc.oneof(
          fc.constantFrom('auto', '1024x1024', '512X2048', '1536×1024', '16:9', ' 4:3 ', '1:100'),
          fc
            .tuple(fc.integer({ min: 32, max: 128 }), fc.integer({ min: 32, max: 128 }))
            .map(([w, h]) => `${w * 16}x${h * 16}`),
        ),
        fc.oneof(
          fc.constantFrom('100x100', '99999x99999', '0x0', '0:1', '1:0', 'x', '-512x512', '512x512x512'),
          fc.tuple(fc.nat(5_000), fc.nat(5_000)).map(([w, h]) => `${w}x${h}`),
        ),
      ),
      aspect_ratio: field(
        fc
          .tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }))
          .map(([w, h]) => `${w}:${h}`),
        fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.nat(100)).map(([w, h]) => `${w}:${h}`),
      ),
      resolution: field(
        fc.oneof(
          fc.constantFrom('0.5K', '1K', '2K', '4K', '2MP', '0.25', 3),
          fc.double({ min: 0.01, max: 100 }),
        ),
        fc.constantFrom('constructor', '__proto__', '8K', -1, 0, Number.NaN, '1e400'),
      ),
      n: field(
        fc.oneof(fc.integer({ min: 1, max: MAX_N }), fc.integer({ min: 1, max: MAX_N }).map(String)),
        fc.constantFrom(0, -1, 11, 1.5, 1e308, '2; DROP TABLE', ' '),
      ),
      seed: field(fc.nat(), fc.constantFrom(-1, 0.5, Number.MAX_SAFE_INTEGER + 2, '18446744073709551616')),
      response_format: field(fc.constantFrom(...RESPONSE_FORMATS, 'URL'), fc.constantFrom('b64', 'file')),
      output_format: field(fc.constantFrom(...OUTPUT_FORMATS, 'jpg', 'JPEG'), fc.constantFrom('bmp', 'tiff')),
      output_compression: field(fc.integer({ min: 0, max: 100 }), fc.constantFrom(-1, 101, 50.5)),
      cfg_scale: field(fc.double({ min: 0, max: 20, noNaN: true }), fc.constantFrom(-0.1, 20.5, 1e308)),
      prompt_enhancement: field(fc.constantFrom(true, false, 'on', 'off'), fc.constantFrom('maybe', 2)),
      enable_safety_checker: field(
        fc.constantFrom(true, false, 'yes', 'no', '1'),
        fc.constantFrom('2', 'sure'),
      ),
      sync_mode: field(fc.boolean(), fc.constantFrom('perhaps')),
      priority: field(fc.constantFrom(...PRIORITIES), fc.constantFrom('urgent', 'BULK ')),
      image: imageRef,
      images: field(
        fc.array(goodImage, { maxLength: 4 }),
        fc.array(imageRef, { minLength: 5, maxLength: 6 }),
      ),
      metadata: junk,
      webhook_url: junk,
    },
    { requiredKeys: ['prompt'] },
  )
  .chain((fields) =>
    // Extra keys: passthrough candidates, fal's reserved names, prototype names.
    fc
      .array(
        fc.tuple(
          fc.oneof(
            {
              weight: 3,
              arbitrary: fc.constantFrom('acceleration', 'num_inference_steps', 'output_quality'),
            },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                '__proto__',
                'constructor',
                'toString',
                'hasOwnProperty',
                'prototype',
                'image_size',
                'num_images',
                'guidance_scale',
                '1bad',
                'a'.repeat(65),
              ),
            },
            { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
          ),
          field(fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()), junk),
        ),
        { maxLength: 3 },
      )
      // As JSON.parse builds objects: every key an own data property, `__proto__` included.
      .map((extra) => Object.fromEntries([...Object.entries(fields), ...extra])),
  );

describe('normalizeImageRequest (properties)', () => {
  it('accepts anything at all only as a valid request, and refuses it only with a 4xx FluxqError', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBoxedValues: true,
          withNullPrototype: true,
          withMap: true,
          withSet: true,
          withBigInt: true,
          withDate: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        checkNormalize,
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('does the same for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), checkNormalize), { seed: SEED + 1, numRuns: RUNS });
  });

  it('does the same for request-like objects with real field names and hostile values', () => {
    let accepted = 0;
    fc.assert(
      fc.property(requestLike, (input) => {
        checkNormalize(input);
        try {
          normalizeImageRequest(input);
          accepted++;
        } catch {}
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
    // The generator is useful only if it also reaches the accepting paths.
    expect(accepted).toBeGreaterThan(RUNS / 20);
  });

  it('never lets a prototype key through or pollutes a prototype', () => {
    for (const body of [
      '{"prompt": "p", "__proto__": {"polluted": "yes"}}',
      '{"prompt": "p", "constructor": {"prototype": {"polluted": "yes"}}}',
      '{"prompt": "p", "constructor": "x"}',
      '{"prompt": "p", "toString": "x"}',
    ]) {
      const input: unknown = JSON.parse(body);
      try {
        const request = normalizeImageRequest(input);
        // A harmless scalar under a prototype name is a passthrough like any other name.
        expect(Object.getPrototypeOf(request.passthrough)).toBe(Object.prototype);
      } catch (err) {
        expect(err).toBeInstanceOf(FluxqError);
        expect((err as FluxqError).message).not.toMatch(/native code|\[object Object\]/);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });
});
