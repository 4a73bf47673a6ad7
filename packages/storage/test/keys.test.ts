import { describe, expect, it } from 'vitest';
import {
  assertValidKey,
  contentTypeForKey,
  inputKey,
  outputKey,
  StorageKeyError,
  uploadKey,
} from '../src/index.js';

describe('key builders', () => {
  it('build the documented layouts', () => {
    expect(outputKey('tenant_1', 'job-9', 0, 'png')).toBe('outputs/tenant_1/job-9/0.png');
    expect(inputKey('t', 'j', 3, '.JPG')).toBe('inputs/t/j/3.jpg');
    expect(uploadKey('t', 'up-1', 'webp')).toBe('uploads/t/up-1.webp');
  });

  it('produce keys that pass assertValidKey', () => {
    expect(() => assertValidKey(outputKey('a', 'b', 12, 'avif'))).not.toThrow();
  });

  it.each([
    ['a tenant with a slash', () => outputKey('a/b', 'j', 0, 'png')],
    ['a tenant with dots', () => outputKey('..', 'j', 0, 'png')],
    ['an empty job id', () => inputKey('t', '', 0, 'png')],
    ['a 65-character id', () => uploadKey('t', 'x'.repeat(65), 'png')],
    ['a negative index', () => outputKey('t', 'j', -1, 'png')],
    ['a fractional index', () => outputKey('t', 'j', 1.5, 'png')],
    ['an extension with a slash', () => uploadKey('t', 'u', 'png/../x')],
    ['an empty extension', () => uploadKey('t', 'u', '')],
  ])('refuse %s', (_label, build) => {
    expect(build).toThrow(StorageKeyError);
  });
});

describe('contentTypeForKey', () => {
  it.each([
    ['a/b.png', 'image/png'],
    ['a/b.jpg', 'image/jpeg'],
    ['a/b.JPEG', 'image/jpeg'],
    ['a/b.webp', 'image/webp'],
    ['a/b.gif', 'image/gif'],
    ['a/b.avif', 'image/avif'],
    ['a/b.json', 'application/json'],
    ['a/b.jsonl', 'application/jsonl'],
    ['a/b.bin', 'application/octet-stream'],
    ['a/noext', 'application/octet-stream'],
    ['a.png/noext', 'application/octet-stream'],
  ])('%s → %s', (key, type) => {
    expect(contentTypeForKey(key)).toBe(type);
  });
});
