import type { Redis } from 'ioredis';

/** A time range whose events are (possibly) missing from the stream; `start_us`/`end_us` are time_us values. */
export interface Gap {
  /** Last time_us written before the gap (events after it are missing). */
  start_us: number;
  /** First time_us received after the gap (events before it are missing). */
  end_us: number;
  /** The Jetstream URL the gap was seen on. */
  url: string;
  /** ISO time the daemon noticed it. */
  detected_at: string;
  /** cursor_expired: the server no longer had our cursor; stream_full / redis_oom: events dropped. */
  reason: GapReason;
}
export type GapReason = 'cursor_expired' | 'stream_full' | 'redis_oom';

/**
 * Gap decision for the first event after a (re)connect that sent a cursor. We asked for events from
 * `lastWrittenUs - rewind`; a server that still has that position starts there (or at the next event,
 * which in a busy firehose is microseconds later). When the first event is later than the last written
 * one by more than the rewind window plus `toleranceUs`, the server had dropped our position: the events
 * between `lastWrittenUs` and `firstUs` are lost. The window is generous on purpose: with wantedDids
 * filters the stream can legitimately be quiet for a while, and real cursor expiries are hours long.
 */
export function detectGap(args: {
  lastWrittenUs: number | undefined;
  firstUs: number | undefined;
  rewindUs: number;
  toleranceUs: number;
}): { start_us: number; end_us: number } | null {
  const { lastWrittenUs, firstUs, rewindUs, toleranceUs } = args;
  if (lastWrittenUs === undefined || firstUs === undefined) return null;
  if (firstUs > lastWrittenUs + rewindUs + toleranceUs) return { start_us: lastWrittenUs, end_us: firstUs };
  return null;
}

/** Records a gap in the `gaps` sorted set (score = start_us, member = the gap as JSON). */
export async function recordGap(redis: Redis, key: string, gap: Gap): Promise<void> {
  await redis.zadd(key, gap.start_us, JSON.stringify(gap));
}
