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

  it('keeps local storage the default, with 30 days of retention', () => {
    expect(loadApiConfig({})).toMatchObject({
      STORAGE_DRIVER: 'local',
      STORAGE_DIR: '.data/storage',
      OUTPUT_RETENTION_DAYS: 30,
    });
  });

  it('reads the S3 settings, treating empty values as unset', () => {
    expect(
      loadApiConfig({
        STORAGE_DRIVER: 's3',
        S3_BUCKET: 'outputs',
        S3_ENDPOINT: '',
        S3_PREFIX: 'fluxq/',
        S3_FORCE_PATH_STYLE: 'true',
        OUTPUT_RETENTION_DAYS: '7',
      }),
    ).toMatchObject({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'outputs',
      S3_ENDPOINT: undefined,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: true,
      S3_PREFIX: 'fluxq/',
      OUTPUT_RETENTION_DAYS: 7,
    });
  });

  it('refuses STORAGE_DRIVER=s3 without a bucket, and file URLs longer than presigning allows', () => {
    expect(() => loadApiConfig({ STORAGE_DRIVER: 's3' })).toThrow(
      /S3_BUCKET: is required when STORAGE_DRIVER=s3/,
    );
    expect(() =>
      loadApiConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'outputs', FILE_URL_TTL_S: String(8 * 86_400) }),
    ).toThrow(/FILE_URL_TTL_S: must be at most 604800/);
    // Local URLs are the API's own HMAC: no such cap.
    expect(loadApiConfig({ FILE_URL_TTL_S: String(8 * 86_400) }).FILE_URL_TTL_S).toBe(8 * 86_400);
    expect(() => loadApiConfig({ STORAGE_DRIVER: 'gcs' })).toThrow(/STORAGE_DRIVER/);
    expect(() => loadApiConfig({ S3_PREFIX: '../up' })).toThrow(/S3_PREFIX/);
  });
});
