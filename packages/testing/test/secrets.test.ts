import { describe, expect, it } from 'vitest';
import { apiKeysOf, assertNoSecretsIn, secretsIn, WELL_KNOWN_TEST_SECRETS } from '../src/index.js';

describe('secretsIn', () => {
  const lines = [
    '{"level":30,"msg":"api listening"}',
    '{"level":50,"msg":"failed","detail":"Bearer fq_ka was refused"}',
    '{"level":30,"msg":"rotated","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}',
  ];

  it('finds the literal secrets and the secret shapes in lines', () => {
    expect(secretsIn(lines, ['fq_ka', 'fq_kb', undefined])).toEqual([
      'fq_ka',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    ]);
  });

  it('finds nothing in clean lines, and ignores secrets too short to search for', () => {
    expect(secretsIn(lines.slice(0, 1), ['fq_ka', 'ok', ...WELL_KNOWN_TEST_SECRETS])).toEqual([]);
    expect(secretsIn(['{"msg":"ok"}'], ['ok'])).toEqual([]);
  });

  it('throws naming the leak masked, never the secret itself', () => {
    expect(() => assertNoSecretsIn('api', lines, ['fq_ka'])).toThrow(
      /api: secrets found in the logs: fq_ka…/,
    );
    let message = '';
    try {
      assertNoSecretsIn('api', lines.slice(2), []);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('[LEAKED]');
    expect(message).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(() => assertNoSecretsIn('api', lines.slice(0, 1), ['fq_ka'])).not.toThrow();
  });
});

describe('apiKeysOf', () => {
  it('takes the keys of API_KEYS pairs, not tenants or hashes', () => {
    expect(apiKeysOf('fq_a:acme, fq_b:globex,fq_c,sha256:abc:x')).toEqual(['fq_a', 'fq_b', 'fq_c']);
    expect(apiKeysOf(undefined)).toEqual([]);
  });
});
