import { describe, expect, it } from 'vitest';
import { commonOptions, UsageError } from '../src/args.js';
import { parseEditArgs } from '../src/commands/edit.js';

const cwd = '/home/me';

describe('parseEditArgs', () => {
  it('reads the inputs and options, with defaults', () => {
    const options = parseEditArgs(
      [
        'photos',
        'more/*.png',
        '--prompt',
        'make it autumn',
        '--format',
        'webp',
        '--size',
        '512x512',
        '-o',
        'out',
      ],
      {},
      cwd,
    );
    expect(options).toMatchObject({
      inputs: ['photos', 'more/*.png'],
      prompt: 'make it autumn',
      format: 'webp',
      size: '512x512',
      n: undefined,
      out: '/home/me/out',
      resume: false,
      concurrency: 4,
      pollIntervalMs: 1000,
      baseUrl: 'http://127.0.0.1:8080',
      apiKey: undefined,
      json: false,
    });
  });

  it('takes the base URL and key from the environment, flags first', () => {
    const env = { FLUXQ_BASE_URL: 'http://api:9000', FLUXQ_API_KEY: 'k1' };
    expect(parseEditArgs(['a.png', '-p', 'x', '--out', 'o'], env, cwd)).toMatchObject({
      baseUrl: 'http://api:9000',
      apiKey: 'k1',
    });
    expect(
      parseEditArgs(
        ['a.png', '-p', 'x', '--out', 'o', '--base-url', 'https://b', '--api-key', 'k2'],
        env,
        cwd,
      ),
    ).toMatchObject({ baseUrl: 'https://b', apiKey: 'k2' });
  });

  it('needs no prompt or inputs with --resume', () => {
    expect(parseEditArgs(['--resume', '--out', 'o', '--json'], {}, cwd)).toMatchObject({
      resume: true,
      inputs: [],
      json: true,
    });
  });

  it('returns undefined for --help', () => {
    expect(parseEditArgs(['--help'], {}, cwd)).toBeUndefined();
    expect(parseEditArgs(['-h'], {}, cwd)).toBeUndefined();
  });

  it.each([
    [['a.png', '--prompt', 'x'], /--out/],
    [['a.png', '--out', 'o'], /--prompt/],
    [['--prompt', 'x', '--out', 'o'], /at least one image/],
    [['a.png', '-p', 'x', '-o', 'o', '--format', 'bmp'], /--format must be one of png/],
    [['a.png', '-p', 'x', '-o', 'o', '--n', '11'], /--n must be a whole number from 1 to 10/],
    [['a.png', '-p', 'x', '-o', 'o', '--n', '1.5'], /--n must be/],
    [['a.png', '-p', 'x', '-o', 'o', '--size', 'big'], /--size must be WxH/],
    [['a.png', '-p', 'x', '-o', 'o', '--concurrency', '0'], /--concurrency/],
    [['a.png', '-p', 'x', '-o', 'o', '--bogus'], /Unknown option '--bogus'/],
    [['a.png', '-p', '   ', '-o', 'o'], /--prompt is empty/],
    [['a.png', '-p', 'x', '-o', 'o', '--base-url', 'ftp://x'], /--base-url must be an http/],
  ])('refuses %j', (args, message) => {
    expect(() => parseEditArgs(args, {}, cwd)).toThrow(UsageError);
    expect(() => parseEditArgs(args, {}, cwd)).toThrow(message);
  });
});

describe('commonOptions', () => {
  it('treats an empty FLUXQ_API_KEY as none', () => {
    expect(commonOptions({}, { FLUXQ_API_KEY: '' }).apiKey).toBeUndefined();
  });
});
