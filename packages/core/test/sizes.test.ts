import { describe, expect, it } from 'vitest';
import {
  dimensionsFor,
  exactSizeProblem,
  nearestAspectRatio,
  resolutionToMegapixels,
  resolveOutputSize,
  splitImageCount,
} from '../src/index.js';

describe('nearestAspectRatio', () => {
  it.each([
    [1, '1:1'],
    [16 / 9, '16:9'],
    [1.9, '16:9'],
    [2.4, '21:9'],
    [10, '21:9'],
    [0.1, '9:21'],
    [1.28, '5:4'],
    [1.32, '4:3'],
    [1.52, '3:2'],
    [0.66, '2:3'],
    [0.56, '9:16'],
  ])('maps %d to %s by log-ratio distance', (value, expected) => {
    expect(nearestAspectRatio(value)).toBe(expected);
  });
});

describe('resolutionToMegapixels', () => {
  it.each<[string | number, number | undefined]>([
    ['0.5K', 0.25],
    ['1K', 1],
    ['1k', 1],
    ['2K', 4],
    ['4K', 4],
    [0.25, 0.25],
    ['1', 1],
    ['2MP', 2],
    [3, 4],
    [1.3, 1],
    [0.3, 0.25],
    [100, 4],
    ['8K', undefined],
    ['big', undefined],
    [0, undefined],
    [-1, undefined],
  ])('maps %s to %s MP', (value, expected) => {
    expect(resolutionToMegapixels(value)).toBe(expected);
  });
});

describe('dimensionsFor', () => {
  it.each([
    [1, 1, { width: 1024, height: 1024 }],
    [1, 0.25, { width: 512, height: 512 }],
    [1, 4, { width: 2048, height: 2048 }],
    [16 / 9, 1, { width: 1360, height: 768 }],
    [9 / 16, 1, { width: 768, height: 1360 }],
    [16 / 9, 4, { width: 2048, height: 1152 }],
    [21 / 9, 0.25, { width: 1200, height: 512 }],
    [10, 1, { width: 2048, height: 512 }],
  ])('ratio %d at %d MP gives %o', (ratio, mp, expected) => {
    expect(dimensionsFor(ratio, mp)).toEqual(expected);
  });

  it('always yields sides that are multiples of 16 within 512..2048', () => {
    for (let ratio = 0.1; ratio < 10; ratio *= 1.17) {
      for (const mp of [0.25, 0.5, 1, 2, 4]) {
        const { width, height } = dimensionsFor(ratio, mp);
        expect(exactSizeProblem({ width, height })).toBeUndefined();
      }
    }
  });
});

describe('exactSizeProblem', () => {
  it.each([
    [{ width: 1024, height: 1024 }, undefined],
    [{ width: 512, height: 2048 }, undefined],
    [{ width: 100, height: 100 }, 'between 512 and 2048'],
    [{ width: 5000, height: 5000 }, 'between 512 and 2048'],
    [{ width: 2064, height: 1024 }, 'between 512 and 2048'],
    [{ width: 1000, height: 1024 }, 'multiple of 16'],
  ])('%o → %s', (dims, expected) => {
    const problem = exactSizeProblem(dims);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(expected);
  });
});

describe('resolveOutputSize', () => {
  it('keeps the first input aspect ratio for input-relative rules', () => {
    expect(resolveOutputSize({ kind: 'input', megapixels: 1 }, { width: 1600, height: 900 })).toEqual({
      width: 1360,
      height: 768,
    });
  });

  it('refuses an input-relative rule without an input', () => {
    expect(() => resolveOutputSize({ kind: 'input', megapixels: 1 })).toThrow(/first input/);
  });
});

describe('splitImageCount', () => {
  it.each([
    [1, [1]],
    [4, [4]],
    [5, [4, 1]],
    [6, [4, 2]],
    [10, [4, 4, 2]],
  ])('splits n=%d into fal requests of %o', (n, expected) => {
    expect(splitImageCount(n)).toEqual(expected);
  });
});
