import { Cluster, type Redis } from 'ioredis';
import { QUEUE_PREFIX } from './names.js';

/**
 * Redis replicates asynchronously: a master that dies right after acknowledging a write can
 * take it along, and the promoted replica never saw it. Before the API answers 2xx for work
 * it accepted, it asks the master holding `{fluxq}` to confirm one replica has every write so
 * far (`WAIT 1`), so a failover cannot lose an accepted job. Only with Sentinel or Cluster,
 * where replicas are part of the deployment; a standalone server has none to wait for.
 * Resolves with the replicas that acknowledged (0 when none did in time: the work is kept on
 * the master and the caller goes on), or undefined when there is nothing to wait for.
 */
export async function waitForReplica(redis: Redis, timeoutMs = 1_000): Promise<number | undefined> {
  const client = redis as Redis | Cluster;
  if (client instanceof Cluster) {
    const master = masterOfFluxqSlot(client);
    return master ? Number(await master.call('WAIT', 1, timeoutMs)) : undefined;
  }
  if ((client.options.sentinels?.length ?? 0) === 0) return undefined;
  return Number(await client.call('WAIT', 1, timeoutMs));
}

/** The connection to the master serving the `{fluxq}` hash slot, from the client's slot map. */
function masterOfFluxqSlot(cluster: Cluster): Redis | undefined {
  // A key made of just the tag hashes to the tag's slot, like every key we use.
  const slot = clusterKeySlot(QUEUE_PREFIX);
  const owner = (cluster as unknown as { slots: Array<string[] | undefined> }).slots[slot]?.[0];
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner);
}

/** CRC16 (XMODEM) of the hash tag, mod 16384: Redis Cluster's key slot. */
export function clusterKeySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16_384;
}
