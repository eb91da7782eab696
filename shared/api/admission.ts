/**
 * Admission control for one query function's process: at most `concurrency` queries run at once, the
 * rest wait in a bounded FIFO queue.
 *
 * Why: DuckDB shares its threads between every running query, so 50 concurrent searches on 2 cores each
 * run ~25x slower and all of them hit QUERY_TIMEOUT_MS together. Queued, each runs at full speed in
 * turn: the time budget starts when a query is admitted, waiting is bounded separately, and a queue
 * that is already full answers at once (503 `overloaded`) instead of piling up work nobody waits for.
 */
import { AppError, OverloadError } from '../errors.js';

export interface AdmissionOptions {
  /** Queries running at once. */
  concurrency: number;
  /** Requests allowed to wait beyond those (0: none wait). */
  queueMax: number;
  /** Longest wait for a slot, ms. */
  queueTimeoutMs: number;
  /** Told the running and waiting counts after every change (for a gauge). */
  onChange?: (running: number, waiting: number) => void;
}

interface Waiter {
  admit: () => void;
  fail: (err: unknown) => void;
}

export class AdmissionGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly opts: AdmissionOptions) {}

  /** Queries running now. */
  get active(): number {
    return this.running;
  }

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Waits for a slot; the returned function frees it (call it exactly once, in a finally). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new AppError('client_closed', 'the client closed the connection', 499);
    if (this.running < this.opts.concurrency && this.waiting.length === 0) {
      this.running++;
      this.changed();
      return this.releaser();
    }
    if (this.waiting.length >= this.opts.queueMax) {
      throw new OverloadError('overloaded', `${this.running} queries are running and ${this.waiting.length} are waiting; try again shortly`);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          cleanup();
          resolve();
        },
        fail: (err) => {
          cleanup();
          reject(err);
        },
      };
      const leave = (err: unknown) => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        this.changed();
        waiter.fail(err);
      };
      const timer = setTimeout(
        () => leave(new OverloadError('overloaded', `no query slot became free within ${this.opts.queueTimeoutMs} ms; try again shortly`)),
        this.opts.queueTimeoutMs,
      );
      const onAbort = () => leave(new AppError('client_closed', 'the client closed the connection', 499));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.changed();
    });
    // The slot was handed over by release(): `running` already counts this query.
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next.admit();
      else this.running--;
      this.changed();
    };
  }

  private changed(): void {
    this.opts.onChange?.(this.running, this.waiting.length);
  }
}
