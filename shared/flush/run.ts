/**
 * One flush run: take the lock, then batch by batch read the stream, convert with DuckDB, write one
 * ZSTD Parquet file per table per hour (temporary name, fsync, rename, fsync folder), keep bad lines in
 * quarantine, and only then XACK and delete the entries (XTRIM MINID or XDEL, see stream.ts). A crash
 * anywhere before the ack leaves the entries pending; the next run re-reads the same entries and rewrites the same file names.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FlushCrashPoint } from '../config/sections/pipeline.js';
import type { AppContext } from '../context.js';
import { batchFilePath, batchName, HOUR_US, hourOfTimeUs, partitionDir } from '../parquet/layout.js';
import { FIREHOSE_TABLES, getTable, type TableName } from '../tables/index.js';
import { ownTempPath, sweepDeadTemp, TEMP_PREFIX } from '../temp-sweep.js';
import { copyTableHour, dropStaged, LineFile, stageBatch } from './convert.js';
import { commitFile, fsyncDir, tempPathFor } from './durable.js';
import { acquireLock, type HeldLock } from './lock.js';
import { flushMetrics } from './metrics.js';
import { writeQuarantine } from './quarantine.js';
import { ackAndDelete, ensureGroup, nextBatch, type BatchSource, type StreamBatch, type StreamEntry } from './stream.js';

export interface FlushSummary {
  /** `locked`: another run holds the lock; nothing was done. */
  status: 'ok' | 'locked';
  events_read: number;
  /** Rows written per firehose table. */
  rows: Record<string, number>;
  files_written: number;
  /** Written Parquet files, relative to the Parquet root. */
  files: string[];
  quarantined: number;
  quarantined_by_reason: Record<string, number>;
  quarantine_files: string[];
  duplicates_dropped: number;
  /** Entries taken over from another consumer. */
  claimed: number;
  batches: number;
  /** Entries left in the stream when the run ended. */
  stream_length: number;
  duration_ms: number;
}

function emptySummary(): FlushSummary {
  return {
    status: 'ok',
    events_read: 0,
    rows: Object.fromEntries(FIREHOSE_TABLES.map((t) => [t.name, 0])),
    files_written: 0,
    files: [],
    quarantined: 0,
    quarantined_by_reason: {},
    quarantine_files: [],
    duplicates_dropped: 0,
    claimed: 0,
    batches: 0,
    stream_length: 0,
    duration_ms: 0,
  };
}

/** Test-only crash points (FLUSH_CRASH_AT): the process dies as a real crash would, without cleanup. */
function crashPoint(ctx: AppContext, point: FlushCrashPoint): void {
  if (ctx.cfg.pipeline.flushCrashAt === point) process.kill(process.pid, 'SIGKILL');
}

/** fsyncs `dir` and its parents up to `root`, so freshly created partition folders survive a crash. */
async function syncDirChain(dir: string, root: string): Promise<void> {
  for (let d = dir; d.startsWith(root); d = path.dirname(d)) {
    await fsyncDir(d);
    if (d === root) break;
  }
}

/** The raw text of a few entries, read again from the stream (they are not deleted before the ack). */
async function fetchRawEntries(ctx: AppContext, ids: string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let i = 0; i < ids.length; i += 1000) {
    const p = ctx.redis.pipeline();
    const chunk = ids.slice(i, i + 1000);
    for (const id of chunk) p.xrangeBuffer(ctx.keys.stream, id, id);
    const res = (await p.exec()) ?? [];
    res.forEach(([err, reply], j) => {
      if (err) throw err;
      const fields = (reply as [Buffer, Buffer[]][])[0]?.[1] ?? [];
      let raw: string | null = null;
      for (let k = 0; k + 1 < fields.length; k += 2) {
        if (fields[k]!.toString() === 'e') raw = fields[k + 1]!.toString('utf8');
      }
      out.set(chunk[j]!, raw);
    });
  }
  return out;
}

/**
 * A batch's entries split into line files of at most `size` entries, one DuckDB pass each. Slices are
 * cut by count from the batch's first entry, so a batch re-read after a crash (from its first
 * unacknowledged slice on) is cut at the same places and yields the same file names. A full slice is
 * handed to `onFull` at once: it is converted by DuckDB (its own threads) while this process goes on
 * reading the next slice from Redis. Slices are converted one after the other, in order.
 */
class Slices {
  readonly files: LineFile[] = [];
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(
    private readonly size: number,
    private readonly onFull: (lines: LineFile, index: number, source: BatchSource) => Promise<Ack>,
  ) {}

  /**
   * Acknowledgements, one after the other in slice order. A slice's ack starts once its files are
   * durable and the previous slice's ack is done; the next slice's conversion does not wait for it
   * (the ack is Redis work, the conversion DuckDB work). A crash leaves every slice from the first
   * unacknowledged one pending, as before: re-read, cut at the same places, same names.
   */
  private acks: Promise<void> = Promise.resolve();
  /**
   * Off: measured slower on this 2-core machine (bench:flush, 1M events), because Redis running the
   * ack takes a core from DuckDB's two threads; worth trying where Redis has its own CPU.
   */
  private readonly overlapAcks = false;

  async add(entries: StreamEntry[], source: BatchSource): Promise<void> {
    if (this.failed !== undefined) throw this.failed;
    for (let i = 0; i < entries.length; ) {
      let cur = this.files[this.files.length - 1];
      if (!cur || cur.ids.length >= this.size) {
        cur = await LineFile.create(ownTempPath(TEMP_PREFIX.flushLines, `${randomUUID()}.lines`));
        this.files.push(cur);
      }
      const take = Math.min(this.size - cur.ids.length, entries.length - i);
      await cur.add(entries.slice(i, i + take));
      i += take;
      if (cur.ids.length >= this.size) this.schedule(cur, this.files.length - 1, source);
    }
  }

  private schedule(lines: LineFile, index: number, source: BatchSource): void {
    this.chain = this.chain.then(async () => {
      if (this.failed !== undefined) return;
      try {
        await lines.close();
        const ack = await this.onFull(lines, index, source);
        if (this.overlapAcks) {
          this.acks = this.acks.then(async () => {
            if (this.failed !== undefined) return;
            try {
              await ack();
            } catch (err) {
              this.failed = err;
            }
          });
        } else {
          await ack();
        }
      } catch (err) {
        this.failed = err;
      }
    });
  }

  /** Converts the last, partial slice and waits for every slice; rethrows the first failure. */
  async finish(source: BatchSource | undefined): Promise<void> {
    const last = this.files[this.files.length - 1];
    if (last && source && last.ids.length < this.size) this.schedule(last, this.files.length - 1, source);
    await this.chain;
    await this.acks;
    if (this.failed !== undefined) throw this.failed;
  }

  /** Waits for scheduled work (ignoring its outcome) and deletes every line file. */
  async remove(): Promise<void> {
    await this.chain;
    await this.acks;
    for (const f of this.files) {
      await f.close().catch(() => undefined);
      await rm(f.path, { force: true });
    }
  }
}

/** Acknowledges a slice whose files are durable, then counts it in the summary. */
type Ack = () => Promise<void>;

/**
 * Converts and writes one slice of a batch whose entries are in `lines` (closed); returns the ack to
 * run once every earlier slice is acknowledged (never before this slice's files are durable).
 */
async function flushBatch(
  ctx: AppContext,
  conn: DuckDBConnection,
  batch: { source: BatchSource },
  lines: LineFile,
  orphanIds: readonly string[],
  summary: FlushSummary,
  msRead: number,
): Promise<Ack> {
  const { cfg, redis, keys, log } = ctx;
  const m = flushMetrics();
  const entryIds = lines.ids;
  const ids = [...entryIds, ...orphanIds];
  if (entryIds.length === 0) return () => ackAndDelete(redis, keys.stream, keys.flushGroup, ids);
  const name = batchName(entryIds[0]!, entryIds[entryIds.length - 1]!);
  const t0 = Date.now();
  const rssMb = () => Math.round(process.memoryUsage.rss() / 1048576);
  const rss = { read: rssMb(), staged: 0, written: 0 };
  try {
    const fetchRaw = (wanted: string[]) => fetchRawEntries(ctx, wanted);
    const staged = await stageBatch(conn, lines, fetchRaw);
    await rm(lines.path, { force: true });
    const tStaged = Date.now();
    rss.staged = rssMb();
    crashPoint(ctx, 'before_write');

    const parquetDir = cfg.storage.parquetDir;
    const dirs = new Set<string>();
    let written = 0;
    for (const out of staged.outputs) {
      const hour = hourOfTimeUs(BigInt(out.hourIndex) * HOUR_US);
      const dir = partitionDir(parquetDir, hour);
      await mkdir(dir, { recursive: true });
      const target = batchFilePath(parquetDir, hour, out.table, name);
      const tmp = tempPathFor(target);
      const broken = await copyTableHour(conn, getTable(out.table), out.hourIndex, tmp, cfg.pipeline.rowGroupSize, entryIds, fetchRaw);
      if (broken.length) {
        staged.quarantined.push(...broken);
        out.rows -= broken.length;
      }
      // Same entries → same name: a file left by a crashed run is replaced by an identical one.
      await commitFile(tmp, target);
      dirs.add(dir);
      written++;
      summary.files.push(path.relative(parquetDir, target).split(path.sep).join('/'));
      if (written === 1) crashPoint(ctx, 'between_files');
    }
    for (const dir of dirs) await syncDirChain(dir, parquetDir);
    const qFile = await writeQuarantine(cfg.storage.quarantineDir, name, staged.quarantined);
    const tWritten = Date.now();
    rss.written = rssMb();
    crashPoint(ctx, 'after_rename_before_ack');

    return async () => {
      const tAck = Date.now();
      await ackAndDelete(redis, keys.stream, keys.flushGroup, ids);
      const ms = { read: msRead, convert: tStaged - t0, ...staged.ms, write: tWritten - tStaged, ack: Date.now() - tAck };

      summary.batches++;
      summary.events_read += entryIds.length;
      if (batch.source === 'claimed') summary.claimed += entryIds.length;
      summary.files_written += written;
      summary.duplicates_dropped += staged.duplicates;
      summary.quarantined += staged.quarantined.length;
      if (qFile) summary.quarantine_files.push(qFile);
      m.batches.inc({ source: batch.source });
      m.eventsRead.inc(entryIds.length);
      if (batch.source === 'claimed') m.claimed.inc(entryIds.length);
      m.duplicates.inc(staged.duplicates);
      for (const q of staged.quarantined) {
        summary.quarantined_by_reason[q.reason] = (summary.quarantined_by_reason[q.reason] ?? 0) + 1;
        m.quarantined.inc({ reason: q.reason });
      }
      for (const out of staged.outputs) {
        summary.rows[out.table] = (summary.rows[out.table] ?? 0) + out.rows;
        m.rows.inc({ table: out.table }, out.rows);
        m.files.inc({ table: out.table });
      }
      log.info(
        { batch: name, source: batch.source, events: entryIds.length, files: written, quarantined: staged.quarantined.length, duplicates: staged.duplicates, ms, rss_mb: rss },
        'batch flushed',
      );
    };
  } finally {
    await rm(lines.path, { force: true });
    await dropStaged(conn).catch(() => undefined);
  }
}

export interface FlushOptions {
  /** Overrides FLUSH_MAX_BATCHES for this run. */
  maxBatches?: number;
}

/**
 * Runs the flush once. Returns `status: 'locked'` without doing anything when another run holds the
 * lock. Throws when a batch fails; its entries stay pending and are retried by the next run.
 */
export async function runFlush(ctx: AppContext, opts: FlushOptions = {}): Promise<FlushSummary> {
  const { cfg, redis, keys } = ctx;
  const log = ctx.log;
  const m = flushMetrics();
  const started = Date.now();
  const summary = emptySummary();

  const lock: HeldLock | undefined = await acquireLock(redis, keys.flushLock, cfg.pipeline.flushLockTtlMs, log);
  if (!lock) {
    m.lockContention.inc();
    m.runs.inc({ result: 'locked' });
    log.info({ key: keys.flushLock }, 'flush lock held by another run; skipping');
    summary.status = 'locked';
    summary.duration_ms = Date.now() - started;
    return summary;
  }
  const endTimer = m.duration.startTimer();
  const conn = await ctx.duckdb.connect();
  try {
    await ensureGroup(redis, keys.stream, keys.flushGroup);
    // Line files left in the temp folder by flush processes that died (SIGKILL, OOM).
    await sweepDeadTemp([TEMP_PREFIX.flushLines], { log });
    const maxBatches = opts.maxBatches ?? cfg.pipeline.flushMaxBatches;
    for (let reads = 0; reads < maxBatches && lock.held; reads++) {
      const tRead = Date.now();
      // The entries stream into DuckDB's input files as they are read; JS keeps only their IDs.
      let msRead = 0;
      const slices = new Slices(cfg.pipeline.flushSliceSize, (lines, k, source) => {
        if (k === 0) msRead = Date.now() - tRead;
        return flushBatch(ctx, conn, { source }, lines, [], summary, k === 0 ? msRead : 0);
      });
      let batch: StreamBatch | undefined;
      try {
        batch = await nextBatch(
          redis,
          {
            stream: keys.stream,
            group: keys.flushGroup,
            consumer: cfg.pipeline.flushConsumer,
            batchSize: cfg.pipeline.flushBatchSize,
            claimIdleMs: cfg.pipeline.flushClaimIdleMs,
          },
          (entries, source) => slices.add(entries, source),
        );
        await slices.finish(batch?.source);
        if (!batch) break;
        // Pending entries already deleted from the stream: nothing to write, only to acknowledge.
        await ackAndDelete(redis, keys.stream, keys.flushGroup, batch.orphanIds);
      } finally {
        await slices.remove();
      }
      if (batch.source === 'new' && batch.count < cfg.pipeline.flushBatchSize) break;
    }
    summary.stream_length = await redis.xlen(keys.stream);
    m.lagEntries.set(summary.stream_length);
    m.runs.inc({ result: 'ok' });
    m.lastSuccess.set(Date.now() / 1000);
    summary.duration_ms = Date.now() - started;
    log.info({ ...summary, files: summary.files.length, quarantine_files: summary.quarantine_files.length }, 'flush run done');
    return summary;
  } catch (err) {
    m.runs.inc({ result: 'error' });
    log.error({ err }, 'flush run failed; entries stay pending for the next run');
    throw err;
  } finally {
    endTimer();
    conn.closeSync();
    await lock.release().catch((err: unknown) => log.warn({ err }, 'lock release failed'));
  }
}

/** Tables the flush writes (for summaries and docs). */
export const FLUSH_TABLES: readonly TableName[] = FIREHOSE_TABLES.map((t) => t.name);
