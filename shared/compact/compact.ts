/**
 * Compaction: for every closed hour, merge each table's batch files (and the previous generation) into
 * one sorted, deduplicated ZSTD Parquet file without the rows whose record was deleted, then switch the
 * hour's manifest to it (the catalog's view, atomic) and, a grace period later, the plain-glob view.
 * See functions/compact/README.md for the design and its reasons.
 */
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AppContext } from '../context.js';
import { sqlIdent, sqlString, withConnection } from '../duckdb.js';
import { acquireLock } from '../flush/lock.js';
import { listHourDirs, listHourTableFiles, listTableFiles, type HourDir } from '../parquet/catalog.js';
import { HOUR_MS, parseParquetPath, partitionPath } from '../parquet/layout.js';
import { TABLES, isTableName, sortKeySql, type TableDef, type TableName } from '../tables/index.js';
import { fsyncDir, generationFile, GENERATIONS_DIR, readManifest, writeManifest, emptyManifest, type HourManifest } from './manifest.js';
import { isTargeted, loadNewDeletes, readAppliedDeletes, writeAppliedDeletes, type DeleteTarget } from './deletes.js';
import { compactMetrics } from './metrics.js';
import { publishHour, removeOrphans } from './publish.js';

export interface CompactOptions {
  /** Clock (ms since the epoch); tests move it. */
  clock?: () => number;
  /** An hour is compacted once it ended this long ago (default COMPACT_GRACE_MINUTES). */
  graceMinutes?: number;
  /** Replaced files are removed this long after the switch (default 2 × QUERY_TIMEOUT_MS). */
  swapGraceMs?: number;
  /** Rows per row group (default PARQUET_ROW_GROUP_SIZE). */
  rowGroupSize?: number;
  /** Compacted hours this recent are re-compacted when new deletes hit them (default 168). */
  deleteLookbackHours?: number;
  /** Wait the swap grace period at the end of the run and publish the glob view (default true). */
  waitForPublish?: boolean;
  /** Take the Redis lock (default true; false only for callers that already serialise runs). */
  lock?: boolean;
  signal?: AbortSignal;
}

export interface TableSummary {
  rows_in: number;
  rows_out: number;
  duplicates_removed: number;
  deleted_removed: number;
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

/** Tables whose rows a delete removes: those with a record `uri` (not the deletes themselves). */
function deletable(t: TableDef): boolean {
  return t.name !== 'deletes' && t.columns.some((c) => c.name === 'uri');
}

function hasColumn(t: TableDef, name: string): boolean {
  return t.columns.some((c) => c.name === name);
}

function fileList(files: string[]): string {
  return `[${files.map(sqlString).join(', ')}]`;
}

function readSql(files: string[]): string {
  return `read_parquet(${fileList(files)}, hive_partitioning = false, union_by_name = true)`;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function scalarRow(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  const r = await conn.runAndReadAll(sql);
  return (r.getRowObjectsJS()[0] ?? {}) as Record<string, unknown>;
}

/** The anti-join condition: the row's record was deleted at or after the row was seen. */
function deletedCond(t: TableDef, alias: string): string {
  const at = hasColumn(t, 'indexed_at') ? ` AND d.deleted_at >= ${alias}.indexed_at` : '';
  return `EXISTS (SELECT 1 FROM compact_deletes d WHERE d.uri = ${alias}.uri${at})`;
}

/**
 * Builds `compact_deletes` (uri → latest delete time), what merges anti-join with: the new deletes, plus
 * every delete from the hour `fromMs` on when an hour with new batch files is merged (a delete filed
 * before an hour began cannot remove a row seen in it).
 */
async function loadDeletes(conn: DuckDBConnection, parquetDir: string, fromMs: number | undefined): Promise<number> {
  const files = fromMs === undefined ? [] : await listTableFiles(parquetDir, 'deletes', { fromUs: BigInt(fromMs) * 1000n });
  const more = files.length ? `UNION ALL SELECT uri, indexed_at AS deleted_at FROM ${readSql(files)}` : '';
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE compact_deletes AS
     SELECT uri, max(deleted_at) AS deleted_at FROM (SELECT uri, deleted_at FROM compact_new_deletes ${more}) GROUP BY uri`,
  );
  const row = await scalarRow(conn, `SELECT count(*)::BIGINT AS n FROM compact_deletes`);
  return Number(row.n);
}

interface HourPlan {
  hour: HourDir;
  manifest: HourManifest | undefined;
  /** Tables to (re)compact, with why. */
  tables: Map<TableName, 'new_batches' | 'deletes'>;
}

/** Closed hours and the tables with batch files their compacted generation does not hold yet. */
async function planNewBatches(hours: HourDir[]): Promise<HourPlan[]> {
  const plans: HourPlan[] = [];
  for (const h of hours) {
    const manifest = await readManifest(h.dir);
    const plan: HourPlan = { hour: h, manifest, tables: new Map() };
    const names = await readdir(h.dir);
    for (const name of names) {
      const p = parseParquetPath(`${partitionPath(h.hour)}/${name}`);
      if (!p) continue;
      const entry = manifest?.tables[p.table];
      if (p.compacted) {
        // A bare `<table>.parquet` without a manifest entry came from elsewhere: merge it in too.
        if (!entry) plan.tables.set(p.table, 'new_batches');
      } else if (!entry || !entry.replaces.includes(name)) plan.tables.set(p.table, 'new_batches');
    }
    plans.push(plan);
  }
  return plans;
}

/**
 * Adds the compacted tables of recent hours (within the lookback) holding a row that a new delete
 * (`compact_new_deletes`) removes. Only the hours the new deletes can target are read (see deletes.ts).
 */
async function planDeleteHits(conn: DuckDBConnection, plans: HourPlan[], now: number, lookbackHours: number, targets: Set<DeleteTarget>): Promise<void> {
  const genFiles: { file: string; plan: HourPlan; table: TableName }[] = [];
  if (targets.size === 0) return;
  for (const plan of plans) {
    if (!plan.manifest || plan.hour.hour.startMs + HOUR_MS + lookbackHours * HOUR_MS <= now) continue;
    const hourIndex = Math.floor(plan.hour.hour.startMs / HOUR_MS);
    for (const [table, entry] of Object.entries(plan.manifest.tables)) {
      if (!isTableName(table) || plan.tables.has(table) || !deletable(TABLES[table])) continue;
      if (!isTargeted(targets, table, hourIndex)) continue;
      genFiles.push({ file: path.join(plan.hour.dir, entry.file), plan, table });
    }
  }
  const byFile = new Map(genFiles.map((g) => [g.file, g]));
  // One scan of the uri (and indexed_at) columns of the recent compacted files: which hold a row deleted since.
  for (const timed of [true, false]) {
    const files = genFiles.filter((g) => hasColumn(TABLES[g.table], 'indexed_at') === timed).map((g) => g.file);
    if (files.length === 0) continue;
    const hit = await conn.runAndReadAll(
      `SELECT DISTINCT f.filename AS file FROM read_parquet(${fileList(files)}, filename = true, hive_partitioning = false, union_by_name = true) f
       JOIN compact_new_deletes d ON d.uri = f.uri${timed ? ' AND d.deleted_at >= f.indexed_at' : ''}`,
    );
    for (const row of hit.getRowObjectsJS()) {
      const g = byFile.get(String(row.file));
      if (g) g.plan.tables.set(g.table, 'deletes');
    }
  }
}

interface TableResult extends TableSummary {
  bytesBefore: number;
  bytesAfter: number;
}

/** Merges one table of one hour into a new generation file; returns the counts. Does not touch the manifest. */
async function compactTable(
  conn: DuckDBConnection,
  table: TableDef,
  inputs: string[],
  target: string,
  rowGroupSize: number,
): Promise<TableResult> {
  const src = readSql(inputs);
  const del = deletable(table) ? deletedCond(table, 't') : 'false';
  const counts = await scalarRow(
    conn,
    `SELECT count(*)::BIGINT AS rows_in, count(*) FILTER (WHERE ${del})::BIGINT AS deleted FROM ${src} t`,
  );
  const cols = table.columns.map((c) => `CAST(t.${sqlIdent(c.name)} AS ${c.type}) AS ${sqlIdent(c.name)}`).join(', ');
  const order = table.dedupeKeepLatest ? `ORDER BY t.${sqlIdent(table.dedupeKeepLatest)} DESC NULLS LAST` : '';
  const partition = table.dedupeKey.map((k) => `t.${sqlIdent(k)}`).join(', ');
  const tmp = `${target}.${process.pid}.tmp`;
  const copied = await conn.runAndReadAll(
    `COPY (
       SELECT ${cols} FROM ${src} t
       WHERE NOT (${del})
       QUALIFY row_number() OVER (PARTITION BY ${partition} ${order}) = 1
       ORDER BY ${sortKeySql(table)}
     ) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroupSize})`,
  );
  const rowsOut = Number((copied.getRowObjectsJS()[0] as { Count?: unknown } | undefined)?.Count ?? 0);
  await fsyncFile(tmp);
  await rename(tmp, target);
  await fsyncDir(path.dirname(target));
  const rowsIn = Number(counts.rows_in);
  const deleted = Number(counts.deleted);
  let bytesBefore = 0;
  for (const f of inputs) bytesBefore += await fileSize(f);
  return {
    rows_in: rowsIn,
    rows_out: rowsOut,
    deleted_removed: deleted,
    duplicates_removed: rowsIn - deleted - rowsOut,
    bytesBefore,
    bytesAfter: await fileSize(target),
  };
}

interface Written {
  table: TableName;
  inputs: string[];
  gen: string;
}

/** Compacts one planned hour: every listed table gets a new generation, then one manifest switch. */
async function compactHour(conn: DuckDBConnection, plan: HourPlan, clock: () => number, rowGroupSize: number, summary: CompactSummary): Promise<Written[]> {
  const written: Written[] = [];
  const dir = plan.hour.dir;
  const manifest: HourManifest = plan.manifest ? structuredClone(plan.manifest) : emptyManifest();
  removeOrphans(dir, manifest);
  await mkdir(path.join(dir, GENERATIONS_DIR), { recursive: true });
  const m = compactMetrics();
  const changed: TableName[] = [];
  for (const [name] of [...plan.tables].sort(([a], [b]) => a.localeCompare(b))) {
    const table = TABLES[name];
    const inputs = await listHourTableFiles(dir, name);
    if (inputs.length === 0) continue;
    const prev = manifest.tables[name];
    const gen = (prev?.gen ?? 0) + 1;
    const file = generationFile(name, gen);
    const r = await compactTable(conn, table, inputs, path.join(dir, file), rowGroupSize);
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
    const rowGroupSize = opts.rowGroupSize ?? ctx.cfg.pipeline.rowGroupSize;
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
        const written = await compactHour(conn, plan, clock, rowGroupSize, summary);
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
