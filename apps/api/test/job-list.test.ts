import { newId } from '@fluxq/core';
import { recordKeys } from '@fluxq/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SCANNED_PER_PAGE } from '../src/services/job-list.js';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, type TenantClient, tenantClient } from './tenant-client.js';

let api: ApiHarness;
let a: TenantClient;
let b: TenantClient;
let c: TenantClient;
/** Tenant A's 25 jobs, newest first. */
let created: string[];

beforeAll(async () => {
  api = await startApi({ API_KEYS: 'fq_ka:tenantA,fq_kb:tenantB,fq_kc:tenantC' });
  a = tenantClient(api.url, 'fq_ka');
  b = tenantClient(api.url, 'fq_kb');
  c = tenantClient(api.url, 'fq_kc');
  created = [];
  for (let i = 0; i < 25; i++) {
    const response = await a.post('/v1/jobs', { prompt: `job ${i}` });
    expect(response.status).toBe(202);
    created.push(response.body.id);
  }
  // Ids start with their creation time, so newest first is descending id order.
  created.sort().reverse();
});
afterAll(async () => api?.close());

interface Page {
  object: string;
  data: Array<{ id: string; status: string; batch_id: string | null }>;
  has_more: boolean;
  next_cursor: string | null;
}

/** Follows `next_cursor` until the last page; returns every page. */
async function allPages(client: TenantClient, query: string): Promise<Page[]> {
  const pages: Page[] = [];
  let after = '';
  for (;;) {
    const response = await client.get<Page>(`/v1/jobs?${query}${after ? `&after=${after}` : ''}`);
    expect(response.status).toBe(200);
    pages.push(response.body);
    if (!response.body.has_more) return pages;
    expect(response.body.next_cursor).toMatch(/^job_/);
    after = response.body.next_cursor!;
    expect(pages.length).toBeLessThan(100);
  }
}

const ids = (pages: Page[]) => pages.flatMap((page) => page.data.map((job) => job.id));

describe('GET /v1/jobs', () => {
  describe('when paging without a filter', () => {
    it('returns every job exactly once, newest first, in pages of `limit`', async () => {
      const pages = await allPages(a, 'limit=10');
      expect(pages.map((page) => page.data.length)).toEqual([10, 10, 5]);
      expect(pages.map((page) => page.has_more)).toEqual([true, true, false]);
      expect(pages[2]!.next_cursor).toBeNull();
      expect(pages[0]).toMatchObject({ object: 'list' });
      expect(pages[0]!.data[0]).toMatchObject({ object: 'job', status: 'queued' });
      expect(ids(pages)).toEqual(created);
    });

    it('answers 20 jobs by default', async () => {
      const { body } = await a.get<Page>('/v1/jobs');
      expect(body.data.map((job) => job.id)).toEqual(created.slice(0, 20));
      expect(body.has_more).toBe(true);
    });

    it('is not shifted by jobs created between two pages', async () => {
      const first = await a.get<Page>('/v1/jobs?limit=10');
      const newer = await b.post('/v1/jobs', { prompt: 'other tenant' });
      const newest = await a.post('/v1/jobs', { prompt: 'newer than the cursor' });
      const second = await a.get<Page>(`/v1/jobs?limit=10&after=${first.body.next_cursor}`);
      expect(second.body.data.map((job) => job.id)).toEqual(created.slice(10, 20));
      expect(newer.status).toBe(202);
      created.unshift(newest.body.id);
    });

    it("resumes after a cursor whose job is gone, by the cursor's time", async () => {
      const gone = created[5]!;
      const record = await api.deps.store.get(gone);
      await api.deps.store.delete(gone, 'tenantA');
      const { body } = await a.get<Page>(`/v1/jobs?limit=3&after=${gone}`);
      expect(body.data.map((job) => job.id)).toEqual(created.slice(6, 9));
      await api.deps.store.create(record!);
    });

    it("shows only the tenant's own jobs and skips index entries whose job has expired", async () => {
      await api.client.zadd(recordKeys.tenantJobs('tenantB'), Date.now(), newId('job'));
      const { body } = await b.get<Page>('/v1/jobs?limit=100');
      expect(body.data.map((job) => job.id).filter((id) => created.includes(id))).toEqual([]);
      expect(body.data).toHaveLength(1);
      expect(body.has_more).toBe(false);
    });
  });

  describe('when filtering', () => {
    it('pages through the jobs with a status, and through several statuses', async () => {
      const canceled = [created[2]!, created[9]!, created[20]!];
      for (const id of canceled) expect((await a.post(`/v1/jobs/${id}/cancel`)).status).toBe(200);

      const pages = await allPages(a, 'status=canceled&limit=2');
      expect(ids(pages)).toEqual(canceled);
      expect(pages.every((page) => page.data.every((job) => job.status === 'canceled'))).toBe(true);
      expect(ids(await allPages(a, 'status=queued&limit=7'))).toEqual(
        created.filter((id) => !canceled.includes(id)),
      );
      expect(ids(await allPages(a, 'status=queued,canceled&limit=100'))).toEqual(created);
    });

    it('pages through the jobs of a batch', async () => {
      const batch = [created[1]!, created[15]!];
      for (const id of batch) await api.deps.store.update(id, { batch_id: 'batch_test1' });
      expect(ids(await allPages(a, 'batch_id=batch_test1&limit=1'))).toEqual(batch);
      expect(ids(await allPages(a, 'batch_id=batch_other'))).toEqual([]);
    });

    it(`stops scanning after ${MAX_SCANNED_PER_PAGE} entries and still finds every match through the cursors`, async () => {
      const template = (await c.post('/v1/jobs', { prompt: 'template' })).body;
      const record = (await api.deps.store.get(template.id))!;
      await api.deps.store.delete(record.id, 'tenantC');
      const baseMs = Date.now() - 3_600_000;
      const old = { ...record, id: newId('job', baseMs), created_ms: baseMs, status: 'failed' as const };
      await api.deps.store.create(old);
      const newer = Array.from({ length: MAX_SCANNED_PER_PAGE + 50 }, (_, i) => {
        const ms = baseMs + 1 + i;
        return { ...record, id: newId('job', ms), created_ms: ms, status: 'succeeded' as const };
      });
      await Promise.all(newer.map((job) => api.deps.store.create(job)));

      const pages = await allPages(c, 'status=failed&limit=5');
      expect(pages[0]).toMatchObject({ data: [], has_more: true });
      expect(ids(pages)).toEqual([old.id]);
      expect(ids(await allPages(c, 'limit=100'))).toHaveLength(newer.length + 1);
    });
  });

  describe('when a parameter is bad', () => {
    it.each([
      { query: 'limit=0', param: 'limit' },
      { query: 'limit=101', param: 'limit' },
      { query: 'limit=ten', param: 'limit' },
      { query: 'limit=1.5', param: 'limit' },
      { query: 'limit=1&limit=2', param: 'limit' },
      { query: 'status=done', param: 'status' },
      { query: 'after=xyz', param: 'after' },
      { query: 'batch_id=a/b', param: 'batch_id' },
    ])('answers 400 for $query', async ({ query, param }) => {
      const response = await a.get(`/v1/jobs?${query}`);
      expect(response.status).toBe(400);
      expect((response.body as ErrorBody).error).toMatchObject({ code: 'invalid_parameter', param });
    });
  });
});
