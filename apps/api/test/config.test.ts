import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../src/config.js';

describe('loadApiConfig', () => {
  it('defaults to local open mode on 127.0.0.1:8080', () => {
    expect(loadApiConfig({})).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: 'http://127.0.0.1:8080',
    });
  });

  it('refuses NODE_ENV=production without API keys', () => {
    expect(() => loadApiConfig({ NODE_ENV: 'production' })).toThrow(
      /API_KEYS: is required when NODE_ENV=production/,
    );
  });

  it('never listens beyond loopback in open mode', () => {
    expect(() => loadApiConfig({ HOST: '0.0.0.0' })).toThrow(
      /HOST: must be a loopback address without API_KEYS/,
    );
    expect(loadApiConfig({ HOST: '0.0.0.0', API_KEYS: 'fq_x:acme' }).HOST).toBe('0.0.0.0');
  });

  it.each([
    ['PORT', '99999'],
    ['FILES_SIGNING_SECRET', 'short'],
    ['LOG_LEVEL', 'loud'],
  ])('stops on a bad %s, naming it', (name, value) => {
    expect(() => loadApiConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});
