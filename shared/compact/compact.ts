/**
 * Compaction: for every closed hour, merge each table's batch files (and the previous generation) into
 * one sorted, deduplicated ZSTD Parquet file without the rows whose record was deleted, then switch the
 * hour's manifest to it (the catalog's view, atomic) and, a grace period later, the plain-glob view.
 * See functions/compact/README.md for the design and its reasons.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AppContext } from '../context.js';
import { withConnection } from '../duckdb.js';
import { acquireLock } from '../flush/lock.js';
import { listHourDirs, listTableFiles, selectTableFiles, type HourDir } from '../parquet/catalog.js';
import { HOUR_MS, parseParquetPath, partitionPath } from '../parquet/layout.js';
import { TABLES, type TableName } from '../tables/index.js';
import { loadNewDeletes, readAppliedDeletes, writeAppliedDeletes } from './deletes.js';
import { emptyManifest, generationFile, GENERATIONS_DIR, readManifest, writeManifest, type HourManifest } from './manifest.js';
import { compactTable, loadDeletes, type ParquetFormat, type TableSummary } from './merge.js';
import { compactMetrics } from './metrics.js';
import { planDeleteHits, planNewBatches, type HourPlan } from './plan.js';
import { publishHour, removeOrphans } from './publish.js';

export type { TableSummary } from './merge.js';

export interface CompactOptions {
  /** Clock (ms since the epoch); tests move it. */
  clock?: () => number;
  /** An hour is compacted once it ended this long ago (default COMPACT_GRACE_MINUTES). */
  graceMinutes?: number;
  /** Replaced files are removed this long after the switch (default 2 × QUERY_TIMEOUT_MS). */
  swapGraceMs?: number;
  /** Rows per row group (default PARQUET_ROW_GROUP_SIZE; PARQUET_POINT_ROW_GROUP_SIZE for posts). */
  rowGroupSize?: number;
  /**
   * ZSTD level of compacted files (default COMPACT_ZSTD_LEVEL, 9). Compacted files are the long-term copy and compaction is not
   * latency-bound: on generated data level 9 makes them 4% smaller than the flush's default level 3 for
   * 3.4× the compression time; 15 and 19 gain 1.5% and 4% more for 20× and 40× the time.
   */
  zstdLevel?: number;
  /** Compacted hours this recent are re-compacted when new deletes hit them (default 168). */
  deleteLookbackHours?: number;
  /** Wait the swap grace period at the end of the run and publish the glob view (default true). */
  waitForPublish?: boolean;
  /** Take the Redis lock (default true; false only for callers that already serialise runs). */
  lock?: boolean;
  signal?: AbortSignal;
}

export interface CompactSummary {
  /** Set when another run held the lock and this one did nothing. */
  skipped?: 'locked';
  hours_compacted: number;
  /** Hour partitions whose compacted file became visible to plain globs in this run. */
  hours_published: number;
  tables: Partial<Record<TableName, TableSummary>>;
  bytes_before: number;
  bytes_after: number;
  files_removed: number;
  duration_ms: number;
}

export type CompactContext = Pick<AppContext, 'cfg' | 'log' | 'duckdb' | 'redis' | 'keys'>;

/** The default swap grace: twice the longest a query may run, so a query never loses a file it listed. */
export function defaultSwapGraceMs(cfg: CompactContext['cfg']): number {
  return 2 * cfg.api.queryTimeoutMs;
}

/** True once the hour starting at `startMs` ended at least `graceMinutes` ago. */
export function isHourClosed(startMs: number, now: number, graceMinutes: number): boolean {
  return startMs + HOUR_MS + graceMinutes * 60_000 <= now;
}
interface Written {
  table: TableName;
  inputs: string[];
  gen: string;
}

/** Compacts one planned hour: every listed table gets a new generation, then one manifest switch. */
async function compactHour(conn: DuckDBConnection, plan: HourPlan, clock: () => number, format: ParquetFormat, summary: CompactSummary): Promise<Written[]> {
  const written: Written[] = [];
  const dir = plan.hour.dir;
  const manifest: HourManifest = plan.manifest ? structuredClone(plan.manifest) : emptyManifest();
  removeOrphans(dir, manifest);
  await mkdir(path.join(dir, GENERATIONS_DIR), { recursive: true });
  const m = compactMetrics();
  const changed: TableName[] = [];
  for (const [name] of [...plan.tables].sort(([a], [b]) => a.localeCompare(b))) {
    const table = TABLES[name];
    // From a fresh listing and the manifest this run planned with (never the catalog's cache), so the
    // inputs are exactly the previous generation plus what it does not hold.
    const inputs = selectTableFiles(dir, await readdir(dir), plan.manifest, name);
    if (inputs.length === 0) continue;
    const prev = manifest.tables[name];
    const gen = (prev?.gen ?? 0) + 1;
    const file = generationFile(name, gen);
    const r = await compactTable(conn, table, inputs, path.join(dir, file), format);
    const merged = inputs.map((f) => path.basename(f)).filter((b) => parseParquetPath(`${partitionPath(plan.hour.hour)}/${b}`)?.batch !== undefined);
    manifest.tables[name] = {
      gen,
      file,
      replaces: [...new Set([...(prev?.replaces ?? []), ...merged])].sort(),
      switchedAt: 0,
      rows: r.rows_out,
      bytes: r.bytesAfter,
      published: false,
      retired: prev ? [...prev.retired, { file: prev.file, at: 0 }] : [],
    };
    changed.push(name);
    written.push({ table: name, inputs, gen: path.join(dir, file) });
    const t = (summary.tables[name] ??= { rows_in: 0, rows_out: 0, duplicates_removed: 0, deleted_removed: 0 });
    t.rows_in += r.rows_in;
    t.rows_out += r.rows_out;
    t.duplicates_removed += r.duplicates_removed;
    t.deleted_removed += r.deleted_removed;
    summary.bytes_before += r.bytesBefore;
    summary.bytes_after += r.bytesAfter;
    m.rows.inc({ table: name, kind: 'in' }, r.rows_in);
    m.rows.inc({ table: name, kind: 'out' }, r.rows_out);
    m.rows.inc({ table: name, kind: 'duplicate' }, r.duplicates_removed);
    m.rows.inc({ table: name, kind: 'deleted' }, r.deleted_removed);
    m.bytes.inc({ stage: 'before' }, r.bytesBefore);
    m.bytes.inc({ stage: 'after' }, r.bytesAfter);
  }
  // The switch: from here on the catalog hands out the new generations. The grace periods count from
  // this instant, not from when the merge began.
  const switchedAt = clock();
  for (const name of changed) {
    const e = manifest.tables[name]!;
    e.switchedAt = switchedAt;
    for (const r of e.retired) if (r.at === 0) r.at = switchedAt;
  }
  await writeManifest(dir, manifest);
  plan.manifest = manifest;
  summary.hours_compacted++;
  m.hours.inc();
  return written;
}

/** Publishes (glob view) and cleans every hour whose grace period has passed. */
async function publishAll(hours: HourDir[], now: number, graceMs: number, summary: CompactSummary): Promise<void> {
  for (const h of hours) {
    const manifest = await readManifest(h.dir);
    if (!manifest) continue;
    const r = await publishHour(h.dir, manifest, now, graceMs);
    if (r.published > 0) summary.hours_published++;
    summary.files_removed += r.filesRemoved;
  }
}

/** One compact run (see the module comment). Returns `skipped: 'locked'` when another run holds the lock. */
export async function compact(ctx: CompactContext, opts: CompactOptions = {}): Promise<CompactSummary> {
  const clock = opts.clock ?? Date.now;
  const started = Date.now();
  const m = compactMetrics();
  const summary: CompactSummary = {
    hours_compacted: 0,
    hours_published: 0,
    tables: {},
    bytes_before: 0,
    bytes_after: 0,
    files_removed: 0,
    duration_ms: 0,
  };
  const log = ctx.log.child('compact');
  const lock = opts.lock === false ? undefined : await acquireLock(ctx.redis, ctx.keys.compactLock, 15 * 60_000, log);
  if (opts.lock !== false && !lock) {
    m.runs.inc({ result: 'locked' });
    return { ...summary, skipped: 'locked', duration_ms: Date.now() - started };
  }
  const end = m.duration.startTimer();
  try {
    const parquetDir = ctx.cfg.storage.parquetDir;
    const graceMinutes = opts.graceMinutes ?? ctx.cfg.pipeline.compactGraceMinutes;
    const swapGraceMs = opts.swapGraceMs ?? defaultSwapGraceMs(ctx.cfg);
    const format: ParquetFormat = {
      rowGroupSize: opts.rowGroupSize ?? ctx.cfg.pipeline.rowGroupSize,
      pointRowGroupSize: opts.rowGroupSize ?? ctx.cfg.pipeline.pointRowGroupSize,
      zstdLevel: opts.zstdLevel ?? ctx.cfg.pipeline.compactZstdLevel,
    };
    const lookbackHours = opts.deleteLookbackHours ?? 168;
    const now = clock();
    const hours = await listHourDirs(parquetDir);
    // Catch up on what earlier runs switched (and a crashed run left unpublished).
    await publishAll(hours, now, swapGraceMs, summary);
    await withConnection(ctx.duckdb, async (conn) => {
      const closed = hours.filter((h) => isHourClosed(h.hour.startMs, now, graceMinutes));
      if (closed.length === 0) return;
      const all = await planNewBatches(closed);
      // Deletes files not yet applied to the compacted hours of the lookback window.
      const rel = (f: string) => path.relative(parquetDir, f).split(path.sep).join('/');
      const deletesFiles = await listTableFiles(parquetDir, 'deletes', { fromUs: BigInt(now - (lookbackHours + 1) * HOUR_MS) * 1000n });
      const applied = await readAppliedDeletes(parquetDir);
      const newFiles = deletesFiles.filter((f) => !applied.has(rel(f)));
      const targets = await loadNewDeletes(conn, newFiles);
      await planDeleteHits(conn, all, now, lookbackHours, targets);
      const plans = all.filter((p) => p.tables.size > 0);
      const firstNew = plans.find((p) => [...p.tables.values()].includes('new_batches'))?.hour.hour.startMs;
      const nDeletes = await loadDeletes(conn, parquetDir, firstNew);
      log.info({ hours: plans.length, new_deletes_files: newFiles.length, deletes: nDeletes }, 'compaction planned');
      const nowApplied = new Set(deletesFiles.map(rel));
      for (const plan of plans) {
        opts.signal?.throwIfAborted();
        if (lock && !lock.held) throw new Error('compact lock lost');
        const written = await compactHour(conn, plan, clock, format, summary);
        // A deletes generation made only of applied files holds nothing new.
        for (const w of written) {
          if (w.table === 'deletes' && w.inputs.every((f) => nowApplied.has(rel(f)))) nowApplied.add(rel(w.gen));
        }
      }
      await writeAppliedDeletes(parquetDir, nowApplied);
      await conn.run('DROP TABLE IF EXISTS compact_deletes');
      await conn.run('DROP TABLE IF EXISTS compact_new_deletes');
    });
    if (summary.hours_compacted > 0 && opts.waitForPublish !== false) {
      await sleep(swapGraceMs, undefined, { signal: opts.signal });
      await publishAll(await listHourDirs(parquetDir), clock(), swapGraceMs, summary);
    }
    summary.duration_ms = Date.now() - started;
    m.runs.inc({ result: 'ok' });
    m.filesRemoved.inc(summary.files_removed);
    m.lastSuccess.set(Date.now() / 1000);
    log.info({ ...summary }, 'compaction done');
    return summary;
  } catch (err) {
    m.runs.inc({ result: 'error' });
    throw err;
  } finally {
    end();
    await lock?.release().catch(() => undefined);
  }
}
