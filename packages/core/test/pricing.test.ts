import { describe, expect, it } from 'vitest';
import { billedMegapixels, priceRequest } from '../src/index.js';

describe('billedMegapixels', () => {
  it.each([
    [{ width: 1024, height: 1024 }, 1],
    [{ width: 1025, height: 1024 }, 2],
    [{ width: 512, height: 512 }, 1],
    [{ width: 2048, height: 2048 }, 4],
    [{ width: 4000, height: 4000 }, 4],
    [{ width: 1360, height: 768 }, 1],
  ])('rounds %o up to %d MP', (dims, expected) => {
    expect(billedMegapixels(dims)).toBe(expected);
  });
});

describe('priceRequest', () => {
  it("matches fal's example: one 512x512 reference and a 1024x1024 output on Flash edit", () => {
    const cost = priceRequest({
      model: 'flux.2-dev-flash',
      references: [{ width: 512, height: 512 }],
      output: { width: 1024, height: 1024 },
      n: 1,
    });
    expect(cost).toEqual({ megapixels: 2, usd: 0.01 });
  });

  it('bills each output of n and each reference, at the model rate', () => {
    const cost = priceRequest({
      model: 'flux.2-dev-turbo',
      references: [{ width: 3000, height: 3000 }, undefined],
      output: { width: 1536, height: 1024 },
      n: 3,
    });
    // references: 4 MP (capped) + 1 MP (unknown size counts as 1); outputs: 3 × 2 MP
    expect(cost).toEqual({ megapixels: 11, usd: 0.088 });
  });

  it('prices a plain generation at one output per n', () => {
    expect(
      priceRequest({ model: 'flux.2-dev', references: [], output: { width: 1024, height: 1024 }, n: 2 }),
    ).toEqual({ megapixels: 2, usd: 0.024 });
  });
});
