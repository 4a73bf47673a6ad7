import { type RedisServer, redisCommand, startRedisServer, waitFor } from '@fluxq/supervisor';

export interface RedisSentinelSetOptions {
  /** Master name the sentinels monitor. @defaultValue 'fluxq' */
  name?: string;
  /** @defaultValue 3 */
  sentinels?: number;
  /** `down-after-milliseconds`. Unit: ms. @defaultValue 1_000 */
  downAfterMs?: number;
}

export interface RedisSentinelSet {
  readonly name: string;
  /** The data nodes: [initial master, replica]. */
  readonly servers: RedisServer[];
  readonly sentinels: RedisServer[];
  /** `127.0.0.1:port,…` for `REDIS_SENTINELS`. */
  readonly sentinelList: string;
  /** The data node the sentinels name as master now. */
  master(): Promise<RedisServer>;
  /** SIGKILLs the master and waits until the sentinels promoted the replica. */
  killMaster(timeoutMs?: number): Promise<{ killed: RedisServer; promoted: RedisServer }>;
  stop(): Promise<void>;
}

/** One master, one replica and `sentinels` sentinels (quorum: a majority) on 127.0.0.1. */
export async function startRedisSentinelSet(
  options: RedisSentinelSetOptions = {},
): Promise<RedisSentinelSet> {
  const { name = 'fluxq', sentinels: sentinelCount = 3, downAfterMs = 1_000 } = options;
  const primary = await startRedisServer({ appendonly: true });
  const replica = await startRedisServer({
    appendonly: true,
    args: ['--replicaof', '127.0.0.1', String(primary.port)],
  });
  const servers = [primary, replica];
  const quorum = Math.floor(sentinelCount / 2) + 1;
  const config = [
    `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
    `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
    `sentinel failover-timeout ${name} 10000`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n');
  const sentinels = await Promise.all(
    Array.from({ length: sentinelCount }, () => startRedisServer({ sentinel: config })),
  );
  const all = [...servers, ...sentinels];
  const stop = async () => {
    await Promise.allSettled(all.map((server) => server.stop()));
  };
  const alive = new Set(servers);
  const masterPort = async () => {
    const reply = await redisCommand(
      { port: sentinels[0]!.port },
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      name,
    );
    return Number((reply as string[])[1]);
  };
  try {
    await waitFor(
      async () => {
        const info = String(await redisCommand({ port: primary.port }, 'INFO', 'replication'));
        if (!info.includes('connected_slaves:1') || !/state=online/.test(info)) return false;
        // Every sentinel knows the replica and the other sentinels, so any of them can fail over.
        for (const sentinel of sentinels) {
          const master = (await redisCommand(
            { port: sentinel.port },
            'SENTINEL',
            'MASTER',
            name,
          )) as string[];
          const field = (key: string) => Number(master[master.indexOf(key) + 1]);
          if (field('num-slaves') < 1 || field('num-other-sentinels') < sentinelCount - 1) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'the replica and sentinels to find each other' },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const master = async () => {
    const port = await masterPort();
    const node = servers.find((server) => server.port === port);
    if (!node) throw new Error(`sentinels name an unknown master on port ${port}`);
    return node;
  };
  return {
    name,
    servers,
    sentinels,
    sentinelList: sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
    master,
    async killMaster(timeoutMs = 30_000) {
      const killed = await master();
      await killed.kill();
      alive.delete(killed);
      const promoted = await waitFor(
        async () => {
          const node = await master();
          if (node === killed) return undefined;
          const info = String(await redisCommand({ port: node.port }, 'INFO', 'replication'));
          return info.includes('role:master') ? node : undefined;
        },
        { timeoutMs, intervalMs: 100, message: 'the sentinels to promote the replica' },
      );
      return { killed, promoted };
    },
    stop,
  };
}
