import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, SIMULATOR_KEY } from '../src/config.js';

describe('loadWorkerConfig', () => {
  it('refuses to call fal.ai without FAL_KEY, naming the variable', () => {
    expect(() => loadWorkerConfig({})).toThrow(/FAL_KEY: is required to call fal\.ai/);
  });

  it('sends a placeholder key to the simulator when FAL_KEY is unset', () => {
    const config = loadWorkerConfig({ FAL_BASE_URL: 'http://127.0.0.1:8090' });
    expect(config.FAL_KEY).toBe(SIMULATOR_KEY);
    expect(config.FAL_REST_URL).toBe('http://127.0.0.1:8090');
  });

  it('uses FAL_SIM_URL only when neither FAL_KEY nor FAL_BASE_URL is set', () => {
    const sim = 'http://fal-sim:8090';
    expect(loadWorkerConfig({ FAL_SIM_URL: sim })).toMatchObject({
      FAL_BASE_URL: sim,
      FAL_REST_URL: sim,
      FAL_KEY: SIMULATOR_KEY,
    });
    expect(loadWorkerConfig({ FAL_SIM_URL: sim, FAL_KEY: 'id:secret' }).FAL_BASE_URL).toBe(
      'https://queue.fal.run',
    );
    expect(loadWorkerConfig({ FAL_SIM_URL: sim, FAL_BASE_URL: 'http://other:1' }).FAL_BASE_URL).toBe(
      'http://other:1',
    );
  });

  it('records the provider table unless STATS_ENABLED=false', () => {
    const env = { FAL_BASE_URL: 'http://127.0.0.1:8090' };
    expect(loadWorkerConfig(env).STATS_ENABLED).toBe(true);
    expect(loadWorkerConfig({ ...env, STATS_ENABLED: 'false' }).STATS_ENABLED).toBe(false);
  });

  it("keeps fal's storage host next to fal's queue host", () => {
    const config = loadWorkerConfig({ FAL_KEY: 'id:secret' });
    expect(config).toMatchObject({
      FAL_BASE_URL: 'https://queue.fal.run',
      FAL_REST_URL: 'https://rest.fal.ai',
    });
  });

  it.each([
    ['WORKER_CONCURRENCY', '0'],
    ['FAL_POLL_INTERVAL_MS', 'soon'],
    ['REDIS_URL', 'http://localhost'],
    ['ALLOW_HTTP_IMAGE_URLS', 'maybe'],
  ])('stops on a bad %s, naming it', (name, value) => {
    expect(() => loadWorkerConfig({ FAL_KEY: 'k', [name]: value })).toThrow(new RegExp(name));
  });

  it('reads the retry and hedge budget windows (one minute unless set) and the hedge budget shape', () => {
    const sim = { FAL_BASE_URL: 'http://127.0.0.1:8090' };
    expect(loadWorkerConfig(sim)).toMatchObject({
      RETRY_BUDGET_WINDOW_MS: 60_000,
      HEDGE_BUDGET_WINDOW_MS: 60_000,
      HEDGE_BUDGET_BURST: 10,
      HEDGE_QUEUE_PERCENTILE: 0.94,
    });
    expect(
      loadWorkerConfig({
        ...sim,
        RETRY_BUDGET_WINDOW_MS: '6000',
        HEDGE_BUDGET_WINDOW_MS: '6000',
        HEDGE_BUDGET_BURST: '3',
        HEDGE_QUEUE_PERCENTILE: '1',
      }),
    ).toMatchObject({
      RETRY_BUDGET_WINDOW_MS: 6_000,
      HEDGE_BUDGET_WINDOW_MS: 6_000,
      HEDGE_BUDGET_BURST: 3,
      HEDGE_QUEUE_PERCENTILE: 1,
    });
    for (const [name, value] of [
      ['RETRY_BUDGET_WINDOW_MS', '10'],
      ['HEDGE_BUDGET_WINDOW_MS', 'a minute'],
      ['HEDGE_BUDGET_BURST', '0'],
      ['HEDGE_QUEUE_PERCENTILE', '1.5'],
    ] as const) {
      expect(() => loadWorkerConfig({ ...sim, [name]: value })).toThrow(new RegExp(name));
    }
  });

  it('refuses malformed Redis Cluster / Sentinel settings, naming the variable', () => {
    const sim = { FAL_BASE_URL: 'http://127.0.0.1:8090' };
    expect(() => loadWorkerConfig({ ...sim, REDIS_CLUSTER_NODES: 'redis-a' })).toThrow(
      /REDIS_CLUSTER_NODES: must be host:port/,
    );
    expect(() => loadWorkerConfig({ ...sim, REDIS_SENTINELS: 's1:26379' })).toThrow(
      /REDIS_SENTINEL_NAME: must name the master/,
    );
    expect(() =>
      loadWorkerConfig({
        ...sim,
        REDIS_CLUSTER_NODES: 'a:1',
        REDIS_SENTINELS: 'b:2',
        REDIS_SENTINEL_NAME: 'm',
      }),
    ).toThrow(/REDIS_SENTINELS: cannot be set together/);
    expect(loadWorkerConfig({ ...sim, REDIS_CLUSTER_NODES: 'a:7000,[::1]:7001' }).REDIS_CLUSTER_NODES).toBe(
      'a:7000,[::1]:7001',
    );
  });
});
