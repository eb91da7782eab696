import type { DuckDBInstance } from '@duckdb/node-api';
import type { Redis } from 'ioredis';
import type { Config } from './config/index.js';
import { openDuckDB } from './duckdb.js';
import { createLogger, type Logger } from './log.js';
import { createRedis, redisKeys, type RedisKeys } from './redis.js';

/** What a deployable's code receives instead of importing globals. */
export interface AppContext {
  cfg: Config;
  log: Logger;
  keys: RedisKeys;
  redis: Redis;
  duckdb: DuckDBInstance;
  /** Closes what this context opened (not what the caller passed in). */
  destroy(): Promise<void>;
}

export interface ContextOverrides {
  log?: Logger;
  redis?: Redis;
  duckdb?: DuckDBInstance;
}

/** Builds the context once per process; tests pass overrides (their own Redis client, logger, …). */
export async function createContext(cfg: Config, name: string, overrides: ContextOverrides = {}): Promise<AppContext> {
  const log = overrides.log ?? createLogger(name, { level: cfg.runtime.logLevel });
  const redis = overrides.redis ?? createRedis(cfg);
  const duckdb = overrides.duckdb ?? (await openDuckDB(cfg));
  return {
    cfg,
    log,
    keys: redisKeys(cfg.redis.prefix),
    redis,
    duckdb,
    async destroy() {
      if (!overrides.redis) await redis.quit().catch(() => redis.disconnect());
      if (!overrides.duckdb) duckdb.closeSync();
    },
  };
}
