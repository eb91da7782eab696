/**
 * One subscriber of the replay server: its own read position in the source, its filters (replaced live
 * by `options_update`), pacing at `rate` events/s or as fast as the socket drains, and — when looping —
 * the file started over with time_us shifted so time keeps increasing.
 */
import { setImmediate as nextTick, setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import type { Logger } from '../../shared/log.js';
import { shiftLine, type EventLine } from './event-line.js';
import { InvalidOptionsError, parseClientMessage, wants, type Filters, type SubscribeOptions } from './protocol.js';
import type { EventSource, LineIterator } from './source.js';

/** Above this many buffered bytes a client is not sent more until its socket drains. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Events read from the source per step. */
const READ_BATCH = 256;
/** A paced client gets at most this much of a second's budget in one burst. */
const BURST_SECONDS = 0.05;
/** A paced client waits at least this long when out of budget (fewer timers; the burst absorbs late ones). */
const MIN_PAUSE_MS = 10;

export interface SessionDeps {
  source: EventSource;
  rate: number | 'max';
  /** Time added to each pass over the file when looping (0 = no loop). */
  loopPeriodUs: number;
  log: Logger;
  onSent(n: number): void;
}

/** Which pass over the file holds `cursor` when looping, and the cursor within that pass. */
export function loopStart(cursor: number | undefined, first: number, last: number, period: number): { pass: number; from: number | undefined } {
  if (cursor === undefined || !(period > 0) || cursor <= first) return { pass: 0, from: cursor };
  let pass = Math.floor((cursor - first) / period);
  let from: number | undefined = cursor - pass * period;
  if (from > last) {
    pass++;
    from = undefined;
  }
  return { pass, from };
}

export class Session {
  sent = 0;
  /** True once a non-looping client has been sent everything it will get (it then idles). */
  atEnd = false;
  private filters: Filters;
  private helloPending: boolean;
  private closed = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private iterator: LineIterator | null = null;

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    private readonly opts: SubscribeOptions,
    private readonly deps: SessionDeps,
  ) {
    this.filters = opts.filters;
    this.helloPending = opts.requireHello;
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', () => this.stop());
    ws.on('error', () => this.stop());
  }

  /** Streams events until the socket closes; never rejects. */
  async run(): Promise<void> {
    try {
      await this.stream();
    } catch (err) {
      if (this.closed) return;
      this.deps.log.error({ err, client: this.id }, 'replay failed; closing the client');
      this.ws.close(1011, 'failed to replay events');
    } finally {
      this.iterator?.close();
    }
  }

  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.iterator?.close();
    this.abort.abort();
    this.wake?.();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.deps.log.warn({ client: this.id }, 'ignoring a binary message from the client');
      return;
    }
    try {
      const filters = parseClientMessage(data.toString('utf8'));
      if (!filters) {
        this.deps.log.warn({ client: this.id }, 'ignoring a message of unknown type from the client');
        return;
      }
      this.filters = filters;
      this.deps.log.info({ client: this.id, collections: describe(filters) }, 'options updated');
      if (this.helloPending) {
        this.helloPending = false;
        this.wake?.();
      }
    } catch (err) {
      const reason = err instanceof InvalidOptionsError ? err.message : 'bad message';
      this.deps.log.info({ client: this.id, reason }, 'closing a client that sent bad options');
      // Jetstream answers bad options with a normal close frame carrying the reason (at most 123 bytes).
      this.ws.close(1000, Buffer.from(reason).subarray(0, 123).toString('utf8').replace(/\uFFFD$/, ''));
      this.stop();
    }
  }

  /** Resolves when stop() or wakeUp happens. */
  private waitForWake(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      if (this.closed) resolve();
    });
  }

  private async stream(): Promise<void> {
    while (this.helloPending && !this.closed) await this.waitForWake();
    const { source, loopPeriodUs, rate } = this.deps;
    const looping = loopPeriodUs > 0 && source.count !== 0;
    let { pass, from } = looping
      ? loopStart(this.opts.cursor, source.firstTimeUs, source.lastTimeUs, loopPeriodUs)
      : { pass: 0, from: this.opts.cursor };
    const paced = rate !== 'max';
    let tokens = paced ? 1 : 0;
    let last = performance.now();
    const burst = paced ? Math.max(1, rate * BURST_SECONDS) : 0;

    while (!this.closed) {
      this.iterator = source.open(from);
      let sentThisPass = 0;
      for (;;) {
        const batch = await this.iterator.next(READ_BATCH);
        if (this.closed) return;
        if (!batch.length) break;
        let i = 0;
        while (i < batch.length) {
          if (this.closed) return;
          let allowance = Infinity;
          if (paced) {
            const now = performance.now();
            tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate);
            last = now;
            if (tokens < 1) {
              await this.pause(Math.max(MIN_PAUSE_MS, ((1 - tokens) / rate) * 1000));
              continue;
            }
            allowance = Math.floor(tokens);
          }
          // One socket write for a run of events instead of one per event (ws corks each frame on its own;
          // corks nest). Never corked across an await.
          const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } | null })._socket;
          let sentNow = 0;
          socket?.cork();
          try {
            while (i < batch.length && sentNow < allowance && this.ws.bufferedAmount <= HIGH_WATER_BYTES) {
              const ev = batch[i++] as EventLine;
              if (!wants(this.filters, ev)) continue;
              this.ws.send(pass ? shiftLine(ev, pass * loopPeriodUs) : ev.buf, { binary: false });
              sentNow++;
            }
          } finally {
            socket?.uncork();
          }
          this.sent += sentNow;
          sentThisPass += sentNow;
          this.deps.onSent(sentNow);
          if (paced) tokens -= sentNow;
          if (this.ws.bufferedAmount > HIGH_WATER_BYTES) await this.drain();
        }
        // Let sockets and other clients run between batches.
        await nextTick();
      }
      this.iterator.close();
      this.iterator = null;
      if (!looping) break;
      if (sentThisPass === 0) await this.pause(1000); // nothing matched: do not spin over the file
      pass++;
      from = undefined;
    }
    if (this.closed) return;
    this.atEnd = true;
    this.deps.log.info({ client: this.id, sent: this.sent }, 'client reached the end of the replay; idling like a live tail');
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(Math.max(1, ms), undefined, { signal: this.abort.signal });
    } catch {
      // aborted: the client went away
    }
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.ws.bufferedAmount > HIGH_WATER_BYTES / 4) await this.pause(2);
  }
}

/** A short description of filters for logs. */
export function describe(f: Filters): string {
  const cols = f.collections ? [...f.collections, ...f.prefixes.map((p) => `${p}*`)].join(',') : '*';
  return `${cols}${f.dids.size ? ` dids=${f.dids.size}` : ''}${f.maxMessageSizeBytes ? ` max=${f.maxMessageSizeBytes}` : ''}`;
}
