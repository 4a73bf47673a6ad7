/** Settings every Redis-backed piece of this package shares. */

/**
 * Prefix of every key this package writes. The braces are a Redis Cluster hash tag: all
 * keys land in one slot, so a Lua script may touch several of them, and they sit next to
 * the BullMQ queues (which use the same tag).
 */
export const DEFAULT_KEY_PREFIX = '{fluxq}:';

/**
 * Milliseconds since the epoch. Injected everywhere time decides state (window buckets,
 * lease expiry, open periods) so tests move time by changing a variable instead of
 * sleeping. Workers on several hosts compare these values, so hosts need synced clocks
 * (NTP-level skew of a few ms is harmless against windows of seconds).
 */
export type Clock = () => number;
