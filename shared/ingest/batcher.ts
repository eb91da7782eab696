import type { Logger } from '../log.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { DropTracker } from './drops.js';
import type { IngestMetrics } from './metrics.js';
import { classifyWriteError, type AppendResult } from './stream-writer.js';

/** Reading pauses above this many batches of unwritten events and resumes below the low mark. */
const HIGH_WATER_BATCHES = 4;
const LOW_WATER_BATCHES = 2;
const RETRY_POLICY: BackoffPolicy = { baseMs: 100, maxMs: 5000 };

export interface BatcherDeps {
  writer: { append(events: Buffer[]): Promise<AppendResult> };
  drops: DropTracker;
  metrics: IngestMetrics;
  log: Logger;
  /** Most events in one write (INGEST_PIPELINE_MAX). */
  maxBatch: number;
  /** Back-pressure: stop / restart reading the socket. */
  pause(): void;
  resume(): void;
}

/**
 * Turns the stream of received events into batched writes: everything that arrived within one tick
 * goes out together (up to maxBatch), one write in flight at a time. Memory stays bounded because
 * reading is paused while HIGH_WATER_BATCHES batches wait; Jetstream then holds the events (TCP
 * back-pressure). Tracks the last time_us written, which is what the cursor may advance to.
 */
export class WriteBatcher {
  private bufs: Buffer[] = [];
  private times: (number | undefined)[] = [];
  private inFlight = false;
  private scheduled = false;
  private paused = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;
  private waiters: (() => void)[] = [];
  private readonly high: number;
  private readonly low: number;
  /** time_us of the last event known to be in Redis. */
  lastWrittenUs: number | undefined;
  /** False after a failed write, until the next successful one. */
  redisOk = true;
  writtenTotal = 0;

  constructor(private readonly deps: BatcherDeps) {
    this.high = deps.maxBatch * HIGH_WATER_BATCHES;
    this.low = deps.maxBatch * LOW_WATER_BATCHES;
  }

  get pending(): number {
    return this.bufs.length;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Queues one raw event. */
  push(buf: Buffer, timeUs: number | undefined): void {
    this.bufs.push(buf);
    this.times.push(timeUs);
    if (!this.paused && this.bufs.length >= this.high) {
      this.paused = true;
      this.deps.metrics.paused.set(1);
      this.deps.pause();
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.retryTimer || this.bufs.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.inFlight || this.bufs.length === 0) return;
    this.inFlight = true;
    const n = Math.min(this.deps.maxBatch, this.bufs.length);
    const batch = this.bufs.splice(0, n);
    const times = this.times.splice(0, n);
    const { metrics } = this.deps;
    const started = performance.now();
    try {
      const res = await this.deps.writer.append(batch);
      metrics.writeSeconds.observe((performance.now() - started) / 1000);
      metrics.batchSize.observe(n);
      metrics.streamLength.set(res.length);
      this.redisOk = true;
      this.retryAttempt = 0;
      if (res.written > 0) {
        this.deps.drops.closeRange();
        const last = lastDefined(times, 0, res.written);
        if (last !== undefined) this.lastWrittenUs = last;
        this.writtenTotal += res.written;
        metrics.written.inc(res.written);
      }
      if (res.written < n) this.dropRange('stream_full', times, res.written, n);
    } catch (err) {
      if (classifyWriteError(err) === 'oom') {
        this.redisOk = true; // reachable, just full
        this.dropRange('redis_oom', times, 0, n);
      } else {
        // Connection trouble: keep the batch and retry; reading stays paused once the queue fills.
        this.redisOk = false;
        metrics.writeErrors.inc();
        this.bufs.unshift(...batch);
        this.times.unshift(...times);
        const delay = Math.max(20, backoffDelay(this.retryAttempt++, RETRY_POLICY));
        if (this.retryAttempt === 1 || this.retryAttempt % 20 === 0) {
          this.deps.log.error({ err, attempt: this.retryAttempt, pending: this.bufs.length, retryInMs: delay }, 'redis write failed, retrying');
        }
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.schedule();
        }, delay);
      }
    } finally {
      this.inFlight = false;
    }
    metrics.pending.set(this.bufs.length);
    if (this.paused && this.bufs.length <= this.low) {
      this.paused = false;
      metrics.paused.set(0);
      this.deps.resume();
    }
    if (this.bufs.length > 0) this.schedule();
    else this.wake();
  }

  private dropRange(reason: 'stream_full' | 'redis_oom', times: (number | undefined)[], from: number, to: number): void {
    this.deps.drops.drop(reason, to - from, firstDefined(times, from, to), lastDefined(times, from, to));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves true once every queued event has been written or dropped, false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.bufs.length === 0 && !this.inFlight) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }

  /** Stops retrying (shutdown after the drain deadline). */
  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

function lastDefined(times: (number | undefined)[], from: number, to: number): number | undefined {
  for (let i = to - 1; i >= from; i--) if (times[i] !== undefined) return times[i];
  return undefined;
}

function firstDefined(times: (number | undefined)[], from: number, to: number): number | undefined {
  for (let i = from; i < to; i++) if (times[i] !== undefined) return times[i];
  return undefined;
}
