/**
 * A Redis lock held by one owner: `SET key token NX PX ttl`, extended while the owner works, released
 * only by the owner (compare-and-delete in Lua), so a run that outlived its TTL never frees the lock of
 * the run that took over.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export interface HeldLock {
  readonly key: string;
  readonly token: string;
  /** False once an extension found the key gone or owned by someone else. */
  readonly held: boolean;
  /** Resets the TTL; returns false (and marks the lock lost) when we no longer own it. */
  extend(): Promise<boolean>;
  /** Stops the auto-extension and deletes the key if we still own it. */
  release(): Promise<boolean>;
}

/**
 * Takes the lock or returns undefined when another owner holds it. While held, the TTL is renewed
 * every ttl/3 so a long run keeps it; a crashed owner's lock expires after `ttlMs`.
 */
export async function acquireLock(redis: Redis, key: string, ttlMs: number, log?: Logger): Promise<HeldLock | undefined> {
  const token = randomBytes(16).toString('hex');
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return undefined;
  let held = true;
  const extend = async (): Promise<boolean> => {
    if (!held) return false;
    const r = await redis.eval(EXTEND, 1, key, token, String(ttlMs));
    if (r !== 1) {
      held = false;
      log?.warn({ key }, 'lock lost');
    }
    return held;
  };
  const timer = setInterval(() => {
    extend().catch((err: unknown) => log?.warn({ err, key }, 'lock extension failed'));
  }, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    key,
    token,
    get held() {
      return held;
    },
    extend,
    async release() {
      clearInterval(timer);
      if (!held) return false;
      held = false;
      return (await redis.eval(RELEASE, 1, key, token)) === 1;
    },
  };
}
