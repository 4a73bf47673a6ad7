import { type RedisAddress, redisCommand } from './redis-command.js';

/**
 * What answered on a port: `pong` (an open Redis), `refused` (nothing listens), or
 * `other` (something listens but is not an open Redis: auth required, another protocol,
 * no answer in time).
 */
export type RedisProbe = { status: 'pong' } | { status: 'refused' } | { status: 'other'; detail: string };

/** Sends `PING` and classifies the answer. Never throws. */
export async function probeRedis(address: RedisAddress): Promise<RedisProbe> {
  try {
    const reply = await redisCommand({ timeoutMs: 1_000, ...address }, 'PING');
    return reply === 'PONG'
      ? { status: 'pong' }
      : { status: 'other', detail: `PING answered ${JSON.stringify(reply)}` };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return { status: 'refused' };
    return { status: 'other', detail: (error as Error).message };
  }
}
