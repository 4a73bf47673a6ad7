import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createFalCompletionListener,
  FAL_COMPLETIONS_CHANNEL,
  type FalCompletionListener,
  publishFalCompletion,
} from '../src/index.js';

let server: TestRedis;
let redis: Redis;
const connections: Redis[] = [];
const listeners: FalCompletionListener[] = [];

const connect = () => {
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  connections.push(connection);
  return connection;
};

/** A listener on a subscriber connection of its own, subscribed. */
async function listen(options?: Parameters<typeof createFalCompletionListener>[1]) {
  const listener = createFalCompletionListener(connect(), options);
  listeners.push(listener);
  await listener.ready();
  return listener;
}

let ids = 0;
const newRequestId = () => `req-${process.pid}-${++ids}`;

beforeAll(async () => {
  server = await redisForTests();
  redis = connect();
});
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});
afterAll(async () => {
  for (const connection of connections) await connection.quit().catch(() => connection.disconnect());
  await server?.stop();
});

describe('createFalCompletionListener', () => {
  it('wakes the waiter of a request as soon as its completion is published', async () => {
    const listener = await listen();
    const id = newRequestId();
    const started = Date.now();
    const waiting = listener.wait(id, 30_000);
    await publishFalCompletion(redis, { requestId: id, status: 'OK' });
    expect(await waiting).toBe('completed');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('wakes every waiter of the request, ERROR completions included', async () => {
    const listener = await listen();
    const id = newRequestId();
    const waits = [listener.wait(id, 30_000), listener.wait(id, 30_000)];
    await publishFalCompletion(redis, { requestId: id, status: 'ERROR' });
    expect(await Promise.all(waits)).toEqual(['completed', 'completed']);
  });

  it('wakes listeners in every process (each has its own subscription)', async () => {
    const [one, two] = [await listen(), await listen()];
    const id = newRequestId();
    const waits = [one.wait(id, 30_000), two.wait(id, 30_000)];
    await publishFalCompletion(redis, { requestId: id, status: 'OK' });
    expect(await Promise.all(waits)).toEqual(['completed', 'completed']);
  });

  it('does not wake waiters of other requests', async () => {
    const listener = await listen();
    const [mine, other, marker] = [newRequestId(), newRequestId(), newRequestId()];
    let outcome: string | undefined;
    const waiting = listener.wait(mine, 30_000).then((o) => {
      outcome = o;
      return o;
    });
    const markerWait = listener.wait(marker, 30_000);
    await publishFalCompletion(redis, { requestId: other, status: 'OK' });
    await publishFalCompletion(redis, { requestId: marker, status: 'OK' });
    // Messages arrive in order: once the marker's is in, the other id's was seen and ignored.
    await markerWait;
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcome).toBeUndefined();
    await publishFalCompletion(redis, { requestId: mine, status: 'OK' });
    expect(await waiting).toBe('completed');
  });

  it('answers timeout after timeoutMs when nothing arrives', async () => {
    const listener = await listen();
    const started = Date.now();
    expect(await listener.wait(newRequestId(), 200)).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('ignores messages that are not completions', async () => {
    const listener = await listen();
    const id = newRequestId();
    const waiting = listener.wait(id, 300);
    await redis.publish(FAL_COMPLETIONS_CHANNEL, 'not json');
    await redis.publish(FAL_COMPLETIONS_CHANNEL, JSON.stringify({ request_id: id }));
    await redis.publish(FAL_COMPLETIONS_CHANNEL, JSON.stringify({ requestId: 42 }));
    expect(await waiting).toBe('timeout');
  });

  it('rejects with the reason when the signal aborts, and stops waiting', async () => {
    const listener = await listen();
    const id = newRequestId();
    const controller = new AbortController();
    const waiting = listener.wait(id, 30_000, controller.signal);
    const reason = new Error('job canceled');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(listener.wait(id, 30_000, controller.signal)).rejects.toBe(reason);
  });

  it('ends at once for a completion that arrived shortly before the wait', async () => {
    const listener = await listen();
    const id = newRequestId();
    // A second waiter on another id proves the message went through before we wait.
    const marker = newRequestId();
    const markerWait = listener.wait(marker, 30_000);
    await publishFalCompletion(redis, { requestId: id, status: 'OK' });
    await publishFalCompletion(redis, { requestId: marker, status: 'OK' });
    await markerWait;
    expect(await listener.wait(id, 30_000)).toBe('completed');
    // Remembered once: a second wait on the same id times out.
    expect(await listener.wait(id, 100)).toBe('timeout');
  });

  it('remembers nothing with rememberMs 0', async () => {
    const listener = await listen({ rememberMs: 0 });
    const id = newRequestId();
    const marker = newRequestId();
    const markerWait = listener.wait(marker, 30_000);
    await publishFalCompletion(redis, { requestId: id, status: 'OK' });
    await publishFalCompletion(redis, { requestId: marker, status: 'OK' });
    await markerWait;
    expect(await listener.wait(id, 100)).toBe('timeout');
  });

  it('close() ends pending waits with timeout and unsubscribes', async () => {
    const subscriber = connect();
    const listener = createFalCompletionListener(subscriber);
    await listener.ready();
    const waiting = listener.wait(newRequestId(), 30_000);
    await listener.close();
    expect(await waiting).toBe('timeout');
    expect(await listener.wait(newRequestId(), 30_000)).toBe('timeout');
    expect(await redis.pubsub('NUMSUB', FAL_COMPLETIONS_CHANNEL)).toEqual([FAL_COMPLETIONS_CHANNEL, 0]);
  });
});

describe('the completion channel', () => {
  it('is under the {fluxq} hash tag', () => {
    expect(FAL_COMPLETIONS_CHANNEL).toBe('{fluxq}:fal-completions');
  });
});
