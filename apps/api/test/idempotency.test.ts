import type { JobRecord } from '@fluxq/core';
import { recordKeys } from '@fluxq/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptImageJob } from '../src/services/accept-job.js';
import { fingerprintJson, withIdempotency } from '../src/services/idempotency.js';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, type TenantClient, tenantClient } from './tenant-client.js';

let api: ApiHarness;
let a: TenantClient;
let b: TenantClient;
let keys = 0;

beforeAll(async () => {
  api = await startApi({ API_KEYS: 'fq_ka:tenantA,fq_kb:tenantB', IDEMPOTENCY_TTL_S: '7200' });
  a = tenantClient(api.url, 'fq_ka');
  b = tenantClient(api.url, 'fq_kb');
});
afterAll(async () => api?.close());

/** A fresh key per test, so tests don't see each other's requests. */
const newKey = () => `key-${process.pid}-${++keys}`;
const submit = (client: TenantClient, body: unknown, key?: string) =>
  client.post('/v1/jobs', body, key === undefined ? {} : { 'idempotency-key': key });
const jobCount = (tenant: string) => api.client.zcard(recordKeys.tenantJobs(tenant));

describe('Idempotency-Key on POST /v1/jobs', () => {
  describe('when the same key comes back with the same body', () => {
    it('answers 202 with the original job (replayed) and creates no second job', async () => {
      const key = newKey();
      const body = { prompt: 'a lighthouse', size: '1024x768', metadata: { order: '42' } };
      const before = await jobCount('tenantA');
      const first = await submit(a, body, key);
      const second = await submit(a, body, key);
      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body.id).toBe(first.body.id);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await jobCount('tenantA')).toBe(before + 1);
    });

    it('treats a body with its keys in another order as the same body', async () => {
      const key = newKey();
      const first = await submit(a, { prompt: 'p', n: 2, metadata: { x: '1', y: '2' } }, key);
      const second = await submit(a, { metadata: { y: '2', x: '1' }, n: 2, prompt: 'p' }, key);
      expect(second.body.id).toBe(first.body.id);
    });

    it('remembers the key for IDEMPOTENCY_TTL_S', async () => {
      const key = newKey();
      await submit(a, { prompt: 'p' }, key);
      const [stored] = await api.client.keys(recordKeys.idempotency('tenantA', '*'));
      expect(stored).toBeDefined();
      const ttl = await api.client.ttl(stored!);
      expect(ttl).toBeGreaterThan(7_200 - 60);
      expect(ttl).toBeLessThanOrEqual(7_200);
    });
  });

  describe('when the same key comes with another body', () => {
    it('answers 422 idempotency_key_reused and creates nothing', async () => {
      const key = newKey();
      await submit(a, { prompt: 'first' }, key);
      const before = await jobCount('tenantA');
      const reused = await submit(a, { prompt: 'second' }, key);
      expect(reused.status).toBe(422);
      expect((reused.body as ErrorBody).error).toMatchObject({
        code: 'idempotency_key_reused',
        type: 'invalid_request_error',
        param: 'Idempotency-Key',
      });
      expect(await jobCount('tenantA')).toBe(before);
    });
  });

  describe('when the first request with the key is still being accepted', () => {
    it('answers 409 idempotency_in_flight to the duplicate, then replays the job once it exists', async () => {
      const key = newKey();
      const body = { prompt: 'slow to accept' };
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const inCreate = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const first = withIdempotency(
        { tenant: 'tenantA', get: (name) => (name.toLowerCase() === 'idempotency-key' ? key : undefined) },
        api.deps,
        fingerprintJson('POST /v1/jobs', body),
        async (): Promise<JobRecord> => {
          entered();
          await held;
          return acceptImageJob(body, 'tenantA', api.deps);
        },
      );
      await inCreate;

      const duplicate = await submit(a, body, key);
      expect(duplicate.status).toBe(409);
      expect((duplicate.body as ErrorBody).error.code).toBe('idempotency_in_flight');
      expect(duplicate.headers.get('retry-after')).toBe('1');
      // Even in flight, another body under the key is a 422, not a 409.
      expect((await submit(a, { prompt: 'other' }, key)).status).toBe(422);

      release();
      const { record, replayed } = await first;
      expect(replayed).toBe(false);
      const retry = await submit(a, body, key);
      expect(retry.status).toBe(202);
      expect(retry.body.id).toBe(record.id);
    });

    it('lets a retry through when the first request failed', async () => {
      const key = newKey();
      const bad = await submit(a, { prompt: 'p', size: '100x100' }, key);
      expect(bad.status).toBe(400);
      const fixed = await submit(a, { prompt: 'p', size: '1024x1024' }, key);
      expect(fixed.status).toBe(202);
    });
  });

  describe('when two tenants use the same key', () => {
    it('creates a job for each', async () => {
      const key = newKey();
      const body = { prompt: 'shared key' };
      const fromA = await submit(a, body, key);
      const fromB = await submit(b, body, key);
      expect(fromA.status).toBe(202);
      expect(fromB.status).toBe(202);
      expect(fromB.body.id).not.toBe(fromA.body.id);
      expect(fromB.headers.get('idempotent-replayed')).toBeNull();
      expect((await b.get(`/v1/jobs/${fromA.body.id}`)).status).toBe(404);
    });
  });

  describe('when the key is malformed', () => {
    it.each([
      { title: 'empty', key: '' },
      { title: '256 characters', key: 'k'.repeat(256) },
    ])('answers 400 for a key that is $title', async ({ key }) => {
      const response = await submit(a, { prompt: 'p' }, key);
      expect(response.status).toBe(400);
      expect((response.body as ErrorBody).error.param).toBe('Idempotency-Key');
    });

    it('accepts 255 printable characters, spaces included', async () => {
      const key = `${'k'.repeat(250)} ~!@#`;
      expect((await submit(a, { prompt: 'p' }, key)).status).toBe(202);
    });
  });

  describe('when the request is a dry run', () => {
    it('neither uses nor claims the key', async () => {
      const key = newKey();
      const quoted = await a.post(
        '/v1/jobs?dry_run=true',
        { prompt: 'quote me' },
        { 'idempotency-key': key },
      );
      expect(quoted.status).toBe(200);
      expect((await submit(a, { prompt: 'something else' }, key)).status).toBe(202);
    });
  });
});
