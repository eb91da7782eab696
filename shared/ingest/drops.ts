import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { recordGap, type Gap, type GapReason } from './gap.js';
import type { IngestMetrics } from './metrics.js';

export type DropReason = 'stream_full' | 'redis_oom';

interface OpenRange {
  reason: DropReason;
  firstUs: number;
  lastUs: number;
}

/**
 * Makes every dropped event visible: a metric by reason, a `drops` hash in Redis (reason → count), a
 * rate-limited warning, and a gap record covering the time_us range of each run of drops, so the
 * incomplete hours can be found. Redis counts and gaps are kept in memory until Redis accepts them
 * (a Redis at its memory limit refuses HINCRBY and ZADD too).
 */
export class DropTracker {
  readonly totals: Record<DropReason, number> = { stream_full: 0, redis_oom: 0 };
  private readonly unsaved = new Map<DropReason, number>();
  private readonly unlogged = new Map<DropReason, number>();
  private readonly lastLog = new Map<DropReason, number>();
  private open: OpenRange | undefined;
  private readonly unsavedGaps: Gap[] = [];

  constructor(
    private readonly deps: {
      metrics: IngestMetrics;
      log: Logger;
      keys: { drops: string; gaps: string };
      /** URL the events came from, for gap records. */
      url: () => string;
      logEveryMs?: number;
      now?: () => number;
    },
  ) {}

  /** Counts `count` dropped events whose known time_us values span [firstUs, lastUs]. */
  drop(reason: DropReason, count: number, firstUs: number | undefined, lastUs: number | undefined): void {
    if (count <= 0) return;
    this.totals[reason] += count;
    this.unsaved.set(reason, (this.unsaved.get(reason) ?? 0) + count);
    this.unlogged.set(reason, (this.unlogged.get(reason) ?? 0) + count);
    this.deps.metrics.drops.inc({ reason }, count);
    if (firstUs !== undefined && lastUs !== undefined) {
      if (this.open && this.open.reason !== reason) this.closeRange();
      if (!this.open) this.open = { reason, firstUs, lastUs };
      else {
        this.open.firstUs = Math.min(this.open.firstUs, firstUs);
        this.open.lastUs = Math.max(this.open.lastUs, lastUs);
      }
    }
    const now = (this.deps.now ?? Date.now)();
    const every = this.deps.logEveryMs ?? 5000;
    if (now - (this.lastLog.get(reason) ?? 0) >= every) this.logNow(reason, now);
  }

  private logNow(reason: DropReason, now: number): void {
    const n = this.unlogged.get(reason) ?? 0;
    if (n === 0) return;
    this.lastLog.set(reason, now);
    this.unlogged.set(reason, 0);
    this.deps.log.warn({ reason, dropped: n, total: this.totals[reason] }, 'dropping events');
  }

  /** Ends the current run of drops (events are being written again): it becomes a gap record. */
  closeRange(): void {
    const r = this.open;
    if (!r) return;
    this.open = undefined;
    this.addGap({ start_us: r.firstUs, end_us: r.lastUs, reason: r.reason as GapReason });
  }

  /** Queues any gap (including cursor expiries) to be written with the next save. */
  addGap(g: { start_us: number; end_us: number; reason: GapReason }): Gap {
    const gap: Gap = { ...g, url: this.deps.url(), detected_at: new Date((this.deps.now ?? Date.now)()).toISOString() };
    this.unsavedGaps.push(gap);
    this.deps.metrics.gaps.inc({ reason: gap.reason });
    this.deps.metrics.gapSeconds.inc({ reason: gap.reason }, Math.max(0, gap.end_us - gap.start_us) / 1e6);
    this.deps.log.warn({ gap }, 'gap recorded');
    return gap;
  }

  /** Writes pending counts and gaps to Redis; what Redis refuses stays pending for the next call. */
  async save(redis: Redis): Promise<void> {
    const now = (this.deps.now ?? Date.now)();
    for (const reason of this.unlogged.keys()) {
      if (now - (this.lastLog.get(reason) ?? 0) >= (this.deps.logEveryMs ?? 5000)) this.logNow(reason, now);
    }
    for (const [reason, n] of [...this.unsaved]) {
      if (n === 0) continue;
      await redis.hincrby(this.deps.keys.drops, reason, n);
      this.unsaved.set(reason, (this.unsaved.get(reason) ?? n) - n);
    }
    while (this.unsavedGaps.length > 0) {
      const gap = this.unsavedGaps[0]!;
      await recordGap(redis, this.deps.keys.gaps, gap);
      this.unsavedGaps.shift();
    }
  }

  /** At shutdown: close an open run of drops and log what was not logged yet. */
  finish(): void {
    this.closeRange();
    for (const reason of this.unlogged.keys()) this.logNow(reason, (this.deps.now ?? Date.now)());
  }

  get pendingGaps(): number {
    return this.unsavedGaps.length;
  }
}
