import { Redis } from 'ioredis';
import type { Config } from './config/index.js';

/** Every Redis key the system uses, derived from one prefix so deployments and tests can share a server. */
export function redisKeys(prefix: string) {
  return {
    /** The buffered Jetstream events (raw JSON text in field `e`). */
    stream: `${prefix}events`,
    /** Last Jetstream time_us written to the stream, saved by the daemon. */
    cursor: `${prefix}cursor`,
    /** Sorted set of detected gaps (score = start time_us, member = JSON {start_us, end_us, url}). */
    gaps: `${prefix}gaps`,
    /** Counters of events the daemon had to drop, by reason (hash). */
    drops: `${prefix}drops`,
    /** Consumer group of the flush function on the stream. */
    flushGroup: 'flush',
    flushLock: `${prefix}lock:flush`,
    compactLock: `${prefix}lock:compact`,
    /** Cache of handle → DID resolutions. */
    handleCache: (handle: string) => `${prefix}handle:${handle.toLowerCase()}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/** A Redis client for this config; callers own it and must `quit()` it. */
export function createRedis(cfg: Pick<Config, 'redis'>, opts: { lazyConnect?: boolean } = {}): Redis {
  return new Redis(cfg.redis.url, {
    lazyConnect: opts.lazyConnect ?? false,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: false,
  });
}
