import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * One batch of events is appended by one Lua script: XLEN, then XADD each event while the stream is
 * below its cap. Why a script instead of a pipeline of `XADD MAXLEN ~`:
 *  - MAXLEN trimming deletes the OLDEST entries, which the flush may not have read yet: a full stream
 *    would silently destroy buffered data. Here a full stream refuses the NEW events instead, and the
 *    daemon counts them as dropped (reason stream_full); the flush trims what it has acknowledged.
 *  - The cap check and the appends are atomic, so the cap is exact, with no periodic XLEN polling.
 *  - One command per batch: measured about twice the throughput of a pipeline of XADDs through ioredis.
 * Under `noeviction` a full Redis rejects the script's first XADD with an OOM error before anything
 * is written, so a batch is either written (possibly a prefix of it, when the cap is reached) or not.
 */
export const APPEND_SCRIPT = `
local len = redis.call('XLEN', KEYS[1])
local room = tonumber(ARGV[1]) - len
local n = #ARGV - 1
if room < n then n = room end
if n < 0 then n = 0 end
for i = 2, n + 1 do
  redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
end
return {n, len + n}
`;
const APPEND_SHA = createHash('sha1').update(APPEND_SCRIPT).digest('hex');

export interface AppendResult {
  /** How many events, from the start of the batch, were written; the rest found the stream full. */
  written: number;
  /** Stream length after the write. */
  length: number;
}

/** Why a write failed, as the daemon handles it: `oom` drops the batch, `transient` retries it. */
export type WriteFailure = 'oom' | 'transient';

/** Redis under maxmemory with noeviction answers `OOM command not allowed…` (also inside a script error). */
export function classifyWriteError(err: unknown): WriteFailure {
  const msg = err instanceof Error ? err.message : String(err);
  return /(^|\W)OOM\b/.test(msg) ? 'oom' : 'transient';
}

/** Appends raw events (field `e`, bytes exactly as received) to one stream with a hard cap. */
export class StreamWriter {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly cap: number,
  ) {}

  async append(events: Buffer[]): Promise<AppendResult> {
    if (events.length === 0) return { written: 0, length: await this.redis.xlen(this.key) };
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(APPEND_SHA, 1, this.key, this.cap, ...events);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await this.redis.eval(APPEND_SCRIPT, 1, this.key, this.cap, ...events);
    }
    const [written, length] = reply as [number, number];
    return { written, length };
  }
}
