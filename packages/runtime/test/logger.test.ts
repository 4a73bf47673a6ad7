import { FluxqError } from '@fluxq/core';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, scrubLogString, scrubLogValue } from '../src/index.js';

/** A logger writing into an array of parsed lines. */
function captured(options: { secrets?: string[]; level?: string } = {}) {
  const raw: string[] = [];
  const logger = createLogger({
    name: 'test',
    level: options.level ?? 'debug',
    secrets: options.secrets,
    destination: { write: (line: string) => void raw.push(line) },
  });
  return {
    logger,
    raw: () => raw.join(''),
    line(index: number): Record<string, unknown> {
      const line = raw[index];
      if (line === undefined) throw new Error(`no log line ${index}`);
      return JSON.parse(line) as Record<string, unknown>;
    },
  };
}

const API_KEY = 'fq_live_0123456789abcdef';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const FAL_KEY = '0b3c1f2e-1111-2222-3333-444455556666:9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const PNG_BASE64 = Buffer.alloc(3_000, 7).toString('base64');
const DATA_URI = `data:image/png;base64,${PNG_BASE64}`;

describe('createLogger redaction', () => {
  it('redacts credential fields by path and by name at any depth', () => {
    const sink = captured();
    sink.logger.info(
      {
        req: { headers: { authorization: `Bearer ${API_KEY}`, 'x-api-key': API_KEY, accept: 'x' } },
        apiKey: API_KEY,
        config: { FAL_KEY, FILES_SIGNING_SECRET: 'a-very-long-signing-secret-0123456789' },
        fal: { key: FAL_KEY, baseUrl: 'https://queue.fal.run' },
        webhook: { secret: WHSEC, previous_secret: WHSEC, url: 'https://example.com/hook' },
        deep: { a: { b: { c: { authorization: 'Key abc', password: 'hunter2' } } } },
        storage: { key: 'outputs/local/job_1/0.png' },
      },
      'configured',
    );
    const line = sink.line(0);
    const text = sink.raw();
    for (const secret of [API_KEY, WHSEC, FAL_KEY, 'a-very-long-signing-secret-0123456789', 'hunter2']) {
      expect(text).not.toContain(secret);
    }
    expect(line).toMatchObject({
      req: { headers: { authorization: REDACTED, 'x-api-key': REDACTED, accept: 'x' } },
      apiKey: REDACTED,
      config: { FAL_KEY: REDACTED, FILES_SIGNING_SECRET: REDACTED },
      fal: { key: REDACTED, baseUrl: 'https://queue.fal.run' },
      webhook: { secret: REDACTED, previous_secret: REDACTED, url: 'https://example.com/hook' },
      deep: { a: { b: { c: { authorization: REDACTED, password: REDACTED } } } },
      // a storage key is not a credential
      storage: { key: 'outputs/local/job_1/0.png' },
      msg: 'configured',
    });
  });

  it('masks secrets embedded in strings: messages, fields and error texts', () => {
    const sink = captured();
    sink.logger.warn(
      { detail: `sent Authorization: Key ${FAL_KEY} and header Bearer ${API_KEY}` },
      `rotated to ${WHSEC} for key ${API_KEY}`,
    );
    sink.logger.error({ err: new Error(`fal said: bad key Key ${FAL_KEY}`) }, 'request failed');
    // an error as the only argument: pino takes its message as the line's
    sink.logger.error(new Error(`signature with ${WHSEC} did not match`));
    const text = sink.raw();
    for (const secret of [API_KEY, WHSEC, FAL_KEY]) expect(text).not.toContain(secret);
    const [first, second, third] = [sink.line(0), sink.line(1), sink.line(2)];
    expect(first.msg).toBe(`rotated to whsec_${REDACTED} for key fq_${REDACTED}`);
    expect(first.detail).toBe(`sent Authorization: Key ${REDACTED} and header Bearer ${REDACTED}`);
    expect(second.err).toMatchObject({ type: 'Error', message: `fal said: bad key Key ${REDACTED}` });
    expect(String((second.err as { stack: string }).stack)).not.toContain(FAL_KEY);
    expect(third.msg).toBe(`signature with whsec_${REDACTED} did not match`);
  });

  it('logs data URIs as their mime type and byte count, anywhere', () => {
    const sink = captured();
    sink.logger.info(
      {
        images: [DATA_URI, { image_url: DATA_URI }],
        body: JSON.stringify({ prompt: 'p', images: [DATA_URI] }),
        err: new FluxqError('invalid_image', `images[0]: cannot decode ${DATA_URI}`),
      },
      `got ${DATA_URI.slice(0, 2_000)}`,
    );
    const text = sink.raw();
    expect(text).not.toContain(PNG_BASE64.slice(0, 64));
    const line = sink.line(0);
    expect(line.images).toEqual([
      'data:image/png;base64,[3000 bytes]',
      { image_url: 'data:image/png;base64,[3000 bytes]' },
    ]);
    expect(line.body).toContain('data:image/png;base64,[3000 bytes]');
    expect(line.err).toMatchObject({ type: 'FluxqError', code: 'invalid_image' });
    expect((line.err as { message: string }).message).toBe(
      'images[0]: cannot decode data:image/png;base64,[3000 bytes]',
    );
    // a truncated URI still counts what is there
    expect(line.msg).toMatch(/^got data:image\/png;base64,\[\d+ bytes\]$/);
  });

  it('masks the literal secrets it is given, whatever their shape, in bindings too', () => {
    const signing = 'test-secret-test-secret-test-secret!';
    const sink = captured({ secrets: [signing, 'fq_ka', 'x'] });
    const child = sink.logger.child({ note: `built with ${signing}` });
    child.info({ url: `http://h/?k=fq_ka` }, 'using fq_ka and x');
    const text = sink.raw();
    expect(text).not.toContain(signing);
    expect(text).not.toContain('fq_ka');
    const line = sink.line(0);
    expect(line).toMatchObject({ note: `built with ${REDACTED}`, url: `http://h/?k=${REDACTED}` });
    // secrets shorter than 4 characters are not masked: they would mangle every line
    expect(line.msg).toBe(`using ${REDACTED} and x`);
  });

  it('keeps ordinary values, bounds depth and survives cycles', () => {
    const sink = captured();
    const cyclic: Record<string, unknown> = { jobId: 'job_1' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    sink.logger.info(
      { cyclic, deep, n: 3, ok: true, bytes: Buffer.alloc(10), list: Array(500).fill(1) },
      'x',
    );
    const line = sink.line(0);
    expect(line).toMatchObject({ cyclic: { jobId: 'job_1', self: '[circular]' }, n: 3, ok: true });
    expect(line.bytes).toBe('[10 bytes]');
    expect((line.list as unknown[]).length).toBe(101);
    expect(JSON.stringify(line.deep)).toContain('[object]');
  });

  it('keeps __proto__ keys as data without polluting prototypes', () => {
    const parsed = JSON.parse('{"metadata": {"__proto__": {"polluted": "yes"}, "a": "b"}}') as unknown;
    const scrubbed = scrubLogValue(parsed) as { metadata: Record<string, unknown> };
    expect(Object.hasOwn(scrubbed.metadata, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((scrubbed.metadata as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('scrubLogString', () => {
  it.each([
    ['an API key', `key ${API_KEY}`, `key fq_${REDACTED}`],
    ['a webhook secret', `secret=${WHSEC}`, `secret=whsec_${REDACTED}`],
    ['a fal Authorization header', `Authorization: Key ${FAL_KEY}`, `Authorization: Key ${REDACTED}`],
    [
      'a data URI with parameters',
      'data:image/jpeg;name=a.jpg;base64,AAAAAAAA',
      'data:image/jpeg;name=a.jpg;base64,[6 bytes]',
    ],
    ['a data URI with padding', 'x data:image/png;base64,AAAAAA== y', 'x data:image/png;base64,[4 bytes] y'],
    ['a data URI without a type', 'data:;base64,AAAA', 'data:;base64,[3 bytes]'],
    ['short fq_ words', 'fq_abc and Key id', 'fq_abc and Key id'],
    ['plain text', 'job job_01 failed: provider_error', 'job job_01 failed: provider_error'],
  ])('masks %s', (_title, input, expected) => {
    expect(scrubLogString(input)).toBe(expected);
  });

  it('handles a 20 MB data URI quickly', () => {
    const uri = `data:image/png;base64,${'A'.repeat(20 * 1024 * 1024)}`;
    const started = performance.now();
    expect(scrubLogString(`bad ${uri}`)).toBe(`bad data:image/png;base64,[${15 * 1024 * 1024} bytes]`);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
