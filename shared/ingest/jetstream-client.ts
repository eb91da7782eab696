import WebSocket from 'ws';
import type { Logger } from '../log.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';

export interface JetstreamClientOptions {
  /** Endpoints in order of preference; a failed connection moves on to the next one. */
  urls: string[];
  wantedCollections: string[];
  wantedDids: string[];
  /** A socket with no message and no pong for this long is terminated and replaced. */
  silenceTimeoutMs: number;
  backoff: BackoffPolicy;
  log: Logger;
  /** Asked on every (re)connect: the cursor to send (undefined = live tail). */
  cursor(): number | undefined;
  /** Every event, as the raw bytes of its text frame. */
  onEvent(data: Buffer): void;
  /** A connection opened (after the upgrade); `cursor` is what was sent. */
  onOpen?(info: { url: string; cursor: number | undefined; reconnect: boolean }): void;
  onClose?(info: { url: string; code: number; reason: string }): void;
  random?: () => number;
}

/** Builds the subscribe URL with Jetstream's query parameters. */
export function subscribeUrl(base: string, opts: { wantedCollections: string[]; wantedDids: string[]; cursor: number | undefined }): string {
  const u = new URL(base);
  for (const c of opts.wantedCollections) u.searchParams.append('wantedCollections', c);
  for (const d of opts.wantedDids) u.searchParams.append('wantedDids', d);
  if (opts.cursor !== undefined) u.searchParams.set('cursor', String(opts.cursor));
  return u.toString();
}

/** Which endpoint to use next: stay on one that delivered events, move on from one that did not. */
export function nextUrlIndex(current: number, count: number, deliveredEvents: boolean): number {
  return deliveredEvents ? current : (current + 1) % count;
}

/**
 * A Jetstream subscription that keeps itself alive: reconnects with backoff and full jitter, fails
 * over between endpoints, pings and treats a silent socket as dead, and can pause reading so the
 * server holds events while Redis catches up (no unbounded buffering here).
 */
export class JetstreamClient {
  private ws: WebSocket | undefined;
  private index = 0;
  private attempt = 0;
  private connections = 0;
  private stopping = false;
  private paused = false;
  private lastActivity = Date.now();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private closed: Promise<void> = Promise.resolve();
  /** True while a socket is open. */
  connected = false;
  /** Wall-clock ms of the last event received. */
  lastEventAt: number | undefined;

  constructor(private readonly opts: JetstreamClientOptions) {
    if (opts.urls.length === 0) throw new Error('JetstreamClient needs at least one URL');
  }

  /** The endpoint in use (or being tried). */
  get url(): string {
    return this.opts.urls[this.index]!;
  }

  start(): void {
    this.stopping = false;
    const every = Math.max(250, Math.floor(this.opts.silenceTimeoutMs / 3));
    this.watchdog = setInterval(() => this.checkSilence(), every);
    this.watchdog.unref();
    this.connect();
  }

  /** Stops reading at once; resolves when the socket is closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      // Events still arriving are ignored (see 'message'); the socket keeps reading so the closing
      // handshake can complete.
      ws.resume();
      const forced = setTimeout(() => ws.terminate(), 1000);
      forced.unref();
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'shutting down');
      await this.closed;
      clearTimeout(forced);
    }
  }

  pause(): void {
    this.paused = true;
    this.ws?.pause();
  }

  resume(): void {
    this.paused = false;
    this.lastActivity = Date.now();
    this.ws?.resume();
  }

  private connect(): void {
    const url = this.url;
    const cursor = this.opts.cursor();
    const reconnect = this.connections++ > 0;
    const target = subscribeUrl(url, { wantedCollections: this.opts.wantedCollections, wantedDids: this.opts.wantedDids, cursor });
    const log = this.opts.log;
    log.info({ url, cursor, attempt: this.attempt }, reconnect ? 'reconnecting' : 'connecting');
    const ws = new WebSocket(target, {
      perMessageDeflate: false,
      handshakeTimeout: this.opts.silenceTimeoutMs,
      maxPayload: 16 * 1024 * 1024,
      // The bytes go to Redis untouched and the flush quarantines what does not decode. With validation
      // on, one event with invalid UTF-8 would close the socket (1007) and, resuming from the cursor,
      // close it again forever.
      skipUTF8Validation: true,
    });
    this.ws = ws;
    let delivered = false;
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    ws.on('open', () => {
      this.connected = true;
      this.lastActivity = Date.now();
      if (this.paused) ws.pause();
      log.info({ url, cursor }, 'connected');
      this.opts.onOpen?.({ url, cursor, reconnect });
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      // Jetstream sends text frames (binary would be zstd, which we never ask for). After stop() nothing
      // more is taken: the cursor only covers what was written, so the next start fetches them again.
      if (isBinary || this.stopping) return;
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (!delivered) {
        delivered = true;
        this.attempt = 0;
      }
      this.lastActivity = Date.now();
      this.lastEventAt = this.lastActivity;
      this.opts.onEvent(buf);
    });
    ws.on('pong', () => {
      this.lastActivity = Date.now();
    });
    ws.on('error', (err) => {
      log.warn({ url, err: { message: err.message, code: (err as { code?: string }).code } }, 'websocket error');
    });
    ws.on('unexpected-response', (_req, res) => {
      log.warn({ url, status: res.statusCode }, 'jetstream refused the subscription');
      res.resume();
      ws.terminate();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const wasConnected = this.connected;
      this.connected = false;
      if (this.ws === ws) this.ws = undefined;
      resolveClosed();
      if (wasConnected) this.opts.onClose?.({ url, code, reason: reason.toString() });
      if (this.stopping) return;
      this.index = nextUrlIndex(this.index, this.opts.urls.length, delivered);
      const delay = backoffDelay(this.attempt++, this.opts.backoff, this.opts.random);
      log.warn({ url, code, next: this.url, delayMs: delay }, 'connection closed');
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.stopping) this.connect();
      }, delay);
    });
  }

  private checkSilence(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    // While paused we do not read, so pongs cannot arrive: silence then is ours, not the server's.
    if (this.paused) {
      this.lastActivity = Date.now();
      return;
    }
    const silentMs = Date.now() - this.lastActivity;
    if (silentMs > this.opts.silenceTimeoutMs) {
      this.opts.log.warn({ url: this.url, silentMs }, 'socket silent, reconnecting');
      ws.terminate();
      return;
    }
    ws.ping();
  }
}
