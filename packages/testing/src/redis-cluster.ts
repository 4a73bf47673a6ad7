import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  findExecutable,
  findRedisServerBinary,
  type RedisServer,
  redisCommand,
  startRedisServer,
  waitFor,
} from '@fluxq/supervisor';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** @defaultValue 3 */
  masters?: number;
  /** Replicas per master. @defaultValue 1 */
  replicas?: number;
  /** How long a node may be unreachable before it counts as failed. Unit: ms. @defaultValue 1_000 */
  nodeTimeoutMs?: number;
}

export interface RedisCluster {
  /** Every node (masters and replicas), in start order. */
  readonly nodes: RedisServer[];
  /** `127.0.0.1:port,…` for `REDIS_CLUSTER_NODES`. */
  readonly nodeList: string;
  /** The slot of `key` (`CLUSTER KEYSLOT`). */
  slotOf(key: string): Promise<number>;
  /** The live master serving `slot`, as the cluster currently sees it. */
  masterOf(slot: number): Promise<RedisServer>;
  /** Live masters. */
  masters(): Promise<RedisServer[]>;
  /**
   * SIGKILLs the master of `slot` and waits until a replica was promoted and the cluster is
   * `ok` again; returns the killed node and the new master.
   */
  killMasterOf(slot: number, timeoutMs?: number): Promise<{ killed: RedisServer; promoted: RedisServer }>;
  stop(): Promise<void>;
}

interface NodeLine {
  port: number;
  master: boolean;
  failed: boolean;
  slots: Array<[number, number]>;
}

function parseClusterNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, address = '', flags = '', , , , , , ...slots] = line.split(' ');
      const port = Number(address.split('@')[0]!.split(':').pop());
      return {
        port,
        master: flags.includes('master'),
        failed: /fail|noaddr/.test(flags),
        slots: slots
          .filter((slot) => !slot.startsWith('['))
          .map((slot) => {
            const [from, to = from] = slot.split('-');
            return [Number(from), Number(to)] as [number, number];
          }),
      };
    });
}

/** `redis-cli` next to the redis-server in use, else on PATH. */
export function findRedisCli(): string | undefined {
  const server = findRedisServerBinary();
  const sibling = server ? findExecutable(join(dirname(server), 'redis-cli')) : undefined;
  return sibling ?? findExecutable('redis-cli');
}

/**
 * A real Redis Cluster on 127.0.0.1 (`redis-server --cluster-enabled yes` nodes joined by
 * `redis-cli --cluster create`), with a short node timeout so failovers take seconds.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, replicas = 1, nodeTimeoutMs = 1_000 } = options;
  const cli = findRedisCli();
  if (!cli) throw new Error('redis-cli not found (it comes with redis-server / redis-tools)');
  const count = masters * (1 + replicas);
  const nodes = await Promise.all(
    Array.from({ length: count }, () =>
      startRedisServer({
        appendonly: true,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          // A replica may always be promoted, however long its master was gone.
          '--cluster-replica-validity-factor',
          '0',
        ],
      }),
    ),
  );
  const stop = async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()));
  };
  const alive = new Set(nodes);
  const byPort = new Map(nodes.map((node) => [node.port, node]));
  const nodeList = nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  try {
    await run(
      cli,
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
  } catch (error) {
    await stop();
    throw new Error(`redis-cli --cluster create failed: ${(error as Error).message}`);
  }
  const anyLive = () => [...alive][0]!;
  const view = async () =>
    parseClusterNodes(String(await redisCommand({ port: anyLive().port }, 'CLUSTER', 'NODES')));
  const healthy = async () => {
    for (const node of alive) {
      const info = String(await redisCommand({ port: node.port }, 'CLUSTER', 'INFO'));
      if (!info.includes('cluster_state:ok')) return false;
    }
    const lines = await view();
    return lines.filter((line) => line.master && !line.failed && line.slots.length > 0).length === masters;
  };
  await waitFor(healthy, {
    timeoutMs: 20_000,
    intervalMs: 100,
    message: 'the cluster to be ok on every node',
  });

  const masterOf = async (slot: number) => {
    const line = (await view()).find(
      (l) => l.master && !l.failed && l.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    const node = line && byPort.get(line.port);
    if (!node || !alive.has(node)) throw new Error(`no live master serves slot ${slot}`);
    return node;
  };

  return {
    nodes,
    nodeList,
    slotOf: async (key) => Number(await redisCommand({ port: anyLive().port }, 'CLUSTER', 'KEYSLOT', key)),
    masterOf,
    async masters() {
      const lines = await view();
      return lines
        .filter((line) => line.master && !line.failed && line.slots.length > 0)
        .map((line) => byPort.get(line.port)!)
        .filter((node) => alive.has(node));
    },
    async killMasterOf(slot, timeoutMs = 30_000) {
      const killed = await masterOf(slot);
      await killed.kill();
      alive.delete(killed);
      const promoted = await waitFor(
        async () => {
          const node = await masterOf(slot).catch(() => undefined);
          if (!node || node === killed) return undefined;
          const info = String(await redisCommand({ port: node.port }, 'CLUSTER', 'INFO'));
          return info.includes('cluster_state:ok') ? node : undefined;
        },
        { timeoutMs, intervalMs: 100, message: `a replica to take over slot ${slot}` },
      );
      return { killed, promoted };
    },
    stop,
  };
}
