/**
 * Shared test fixtures: an isolated configuration per test (own Redis key prefix, own temporary data
 * directory), cleaned up when the test ends, and polling instead of fixed sleeps.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../shared/config/index.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export interface TestEnv {
  cfg: Config;
  /** The environment that produced cfg: pass it to child processes. */
  env: Record<string, string>;
  prefix: string;
  dataDir: string;
  /** A Redis client for assertions; closed at teardown. */
  redis: Redis;
}

/**
 * A fresh configuration for one test: unique REDIS_PREFIX, a temporary DATA_DIR, quiet logs.
 * Everything is removed at teardown. `extra` overrides or adds environment variables.
 */
export async function makeTestEnv(t: Teardown, extra: Record<string, string> = {}): Promise<TestEnv> {
  const prefix = `test:${randomBytes(5).toString('hex')}:`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bsky-test-'));
  const env: Record<string, string> = {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...extra,
  };
  const cfg = loadConfig(env);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  t.teardown(async () => {
    await deletePrefix(redis, prefix).catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
    await rm(dataDir, { recursive: true, force: true });
  });
  return { cfg, env, prefix, dataDir, redis };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
