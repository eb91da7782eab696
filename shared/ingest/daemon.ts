import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { collectProcessMetrics } from '../metrics.js';
import { redisKeys, type RedisKeys } from '../redis.js';
import { backoffDelay } from './backoff.js';
import { WriteBatcher } from './batcher.js';
import { CursorStore, resumeCursor } from './cursor.js';
import { DropTracker } from './drops.js';
import { scanEvent } from './event-scan.js';
import { detectGap } from './gap.js';
import { startIngestHttp, type HealthReport, type IngestHttpServer } from './http-server.js';
import { JetstreamClient } from './jetstream-client.js';
import { EventTally, ingestMetrics } from './metrics.js';
import { StreamWriter } from './stream-writer.js';

export interface IngestDaemonDeps {
  cfg: Config;
  redis: Redis;
  log: Logger;
}

/**
 * Jetstream → Redis stream. Owns the websocket client, the batched writer, the cursor, drop and gap
 * bookkeeping and the /healthz + /metrics server. `start()` then `stop()` (SIGTERM): stop reading,
 * write what was received, save the cursor.
 */
export class IngestDaemon {
  private readonly metrics = ingestMetrics();
  private readonly keys: RedisKeys;
  private readonly cursorStore: CursorStore;
  private readonly drops: DropTracker;
  private readonly batcher: WriteBatcher;
  private readonly client: JetstreamClient;
  private readonly tally = new EventTally();
  private http: IngestHttpServer | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private received = 0;
  private reconnects = 0;
  /** Set on a connect that sent a cursor: the first event is checked against it for a gap. */
  private gapCheck: { baseUs: number } | undefined;
  private pendingGapBase: number | undefined;
  private redisFailing = false;
  private lastStats = { at: Date.now(), written: 0 };

  constructor(private readonly deps: IngestDaemonDeps) {
    const { cfg, redis, log } = deps;
    this.keys = redisKeys(cfg.redis.prefix);
    this.cursorStore = new CursorStore(redis, this.keys.cursor);
    this.drops = new DropTracker({ metrics: this.metrics, log: log.child('drops'), keys: this.keys, url: () => this.client.url });
    const writer = new StreamWriter(redis, this.keys.stream, cfg.redis.streamMaxLen);
    this.batcher = new WriteBatcher({
      writer,
      drops: this.drops,
      metrics: this.metrics,
      log: log.child('redis'),
      maxBatch: cfg.ingest.pipelineMax,
      pause: () => this.client.pause(),
      resume: () => this.client.resume(),
    });
    this.client = new JetstreamClient({
      urls: cfg.ingest.jetstreamUrls,
      wantedCollections: cfg.ingest.wantedCollections,
      wantedDids: cfg.ingest.wantedDids,
      silenceTimeoutMs: cfg.ingest.silenceTimeoutMs,
      backoff: { baseMs: cfg.ingest.reconnectBaseMs, maxMs: cfg.ingest.reconnectMaxMs },
      log: log.child('ws'),
      cursor: () => this.nextCursor(),
      onEvent: (buf) => this.onEvent(buf),
      onOpen: ({ cursor, reconnect }) => {
        this.metrics.connected.set(1);
        if (reconnect) {
          this.reconnects++;
          this.metrics.reconnects.inc();
        }
        this.gapCheck = cursor !== undefined && this.pendingGapBase !== undefined ? { baseUs: this.pendingGapBase } : undefined;
      },
      onClose: () => this.metrics.connected.set(0),
    });
  }

  /** Port of the HTTP server (useful when configured as 0). */
  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /** Loads the cursor (waiting for Redis if needed), starts HTTP, connects to Jetstream. */
  async start(): Promise<void> {
    const { cfg, log } = this.deps;
    collectProcessMetrics();
    this.http = await startIngestHttp({
      port: cfg.ingest.httpPort,
      log: log.child('http'),
      health: () => this.health(),
      beforeScrape: () => this.refreshGauges(),
    });
    log.info({ port: this.http.port }, 'http listening');
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        const saved = await this.cursorStore.load();
        log.info({ cursor: saved ?? null, resumeFrom: resumeCursor(saved, cfg.ingest.cursorRewindS) ?? null }, 'cursor loaded');
        break;
      } catch (err) {
        // Starting without the cursor would silently skip whatever happened while we were down.
        const delay = backoffDelay(attempt, { baseMs: 200, maxMs: 5000 });
        log.error({ err, retryInMs: delay }, 'cannot read the cursor from redis, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.stopping) return;
    this.timers.push(setInterval(() => void this.save(), cfg.ingest.cursorSaveMs));
    this.timers.push(setInterval(() => this.logStats(), cfg.ingest.statsIntervalMs));
    this.client.start();
  }

  private nextCursor(): number | undefined {
    this.pendingGapBase = this.batcher.lastWrittenUs ?? this.cursorStore.lastSaved;
    return resumeCursor(this.pendingGapBase, this.deps.cfg.ingest.cursorRewindS);
  }

  private onEvent(buf: Buffer): void {
    this.received++;
    const meta = scanEvent(buf);
    this.tally.add(meta.kind, meta.collection, buf.length);
    if (this.gapCheck && meta.timeUs !== undefined) {
      const gap = detectGap({
        lastWrittenUs: this.gapCheck.baseUs,
        firstUs: meta.timeUs,
        rewindUs: this.deps.cfg.ingest.cursorRewindS * 1_000_000,
        toleranceUs: this.deps.cfg.ingest.gapToleranceMs * 1000,
      });
      this.gapCheck = undefined;
      if (gap) this.drops.addGap({ ...gap, reason: 'cursor_expired' });
    }
    this.batcher.push(buf, meta.timeUs);
  }

  /** Saves the cursor (last time_us written), drop counts and gaps; failures are retried next time. */
  private async save(): Promise<void> {
    this.tally.flushTo(this.metrics);
    try {
      await this.cursorStore.save(this.batcher.lastWrittenUs);
      await this.drops.save(this.deps.redis);
      if (this.redisFailing) this.deps.log.info('redis writes of cursor and counters work again');
      this.redisFailing = false;
    } catch (err) {
      if (!this.redisFailing) this.deps.log.error({ err }, 'cannot save cursor/drops to redis, will retry');
      this.redisFailing = true;
    }
  }

  private refreshGauges(): void {
    this.tally.flushTo(this.metrics);
    const last = this.batcher.lastWrittenUs;
    if (last !== undefined) this.metrics.lag.set(Math.max(0, Date.now() - last / 1000) / 1000);
    this.metrics.pending.set(this.batcher.pending);
  }

  private logStats(): void {
    this.refreshGauges();
    const now = Date.now();
    const written = this.batcher.writtenTotal;
    const rate = ((written - this.lastStats.written) * 1000) / Math.max(1, now - this.lastStats.at);
    this.lastStats = { at: now, written };
    const last = this.batcher.lastWrittenUs;
    this.deps.log.info(
      {
        connected: this.client.connected,
        url: this.client.url,
        received: this.received,
        written,
        written_per_s: Math.round(rate),
        dropped: this.drops.totals,
        pending: this.batcher.pending,
        paused: this.batcher.isPaused,
        lag_s: last === undefined ? null : Math.round(now - last / 1000) / 1000,
        cursor: this.cursorStore.lastSaved ?? null,
        reconnects: this.reconnects,
        rss_mb: Math.round(process.memoryUsage.rss() / 1e6),
      },
      'stats',
    );
  }

  /** What /healthz reports. */
  async health(): Promise<HealthReport> {
    let redis: 'ok' | 'error' = 'error';
    try {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('ping timeout')), 1000).unref());
      await Promise.race([this.deps.redis.ping(), timeout]);
      redis = this.batcher.redisOk ? 'ok' : 'error';
    } catch {
      redis = 'error';
    }
    const at = this.client.lastEventAt;
    return {
      connected: this.client.connected,
      url: this.client.url,
      last_event_age_ms: at === undefined ? null : Date.now() - at,
      redis,
      cursor: this.cursorStore.lastSaved ?? null,
    };
  }

  /**
   * Stops reading, writes what was already received (up to INGEST_SHUTDOWN_MS), saves the cursor.
   * Returns false if some received events could not be written (they are after the saved cursor, so
   * the next start fetches them again).
   */
  async stop(): Promise<boolean> {
    if (this.stopping) return true;
    this.stopping = true;
    const { cfg, log } = this.deps;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.client.stop();
    const drained = await this.batcher.drain(cfg.ingest.shutdownTimeoutMs);
    this.batcher.stop();
    if (!drained) log.error({ pending: this.batcher.pending }, 'shutdown: events left unwritten; they are after the saved cursor and will be fetched again');
    this.drops.finish();
    let saved = true;
    try {
      await this.cursorStore.save(this.batcher.lastWrittenUs);
      await this.drops.save(this.deps.redis);
    } catch (err) {
      saved = false;
      log.error({ err }, 'shutdown: cannot save cursor/drops');
    }
    this.logStats();
    await this.http?.close();
    log.info({ cursor: this.cursorStore.lastSaved ?? null, drained, saved }, 'stopped');
    return drained && saved;
  }
}
