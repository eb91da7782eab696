/** Reconnect policy: exponential backoff with full jitter and a cap (AWS architecture blog's "full jitter"). */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before reconnect attempt `attempt` (0 = first retry after a failure): a uniformly random value
 * in [0, min(maxMs, baseMs * 2^attempt)). Full jitter spreads many daemons reconnecting at once.
 * `random` is injectable for tests and must return a value in [0, 1).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exp);
  return Math.floor(random() * ceiling);
}
