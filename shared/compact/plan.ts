/**
 * What a compact run has to do: closed hours with batch files their generation does not hold yet, and
 * compacted tables a new delete hits.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { HourDir } from '../parquet/catalog.js';
import { HOUR_MS, parseParquetPath, partitionPath } from '../parquet/layout.js';
import { TABLES, isTableName, type TableName } from '../tables/index.js';
import { isTargeted, type DeleteTarget } from './deletes.js';
import { readManifest, type HourManifest } from './manifest.js';
import { deletable, fileList, hasColumn } from './merge.js';

export interface HourPlan {
  hour: HourDir;
  manifest: HourManifest | undefined;
  /** Tables to (re)compact, with why. */
  tables: Map<TableName, 'new_batches' | 'deletes'>;
}

/** Closed hours and the tables with batch files their compacted generation does not hold yet. */
export async function planNewBatches(hours: HourDir[]): Promise<HourPlan[]> {
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
export async function planDeleteHits(conn: DuckDBConnection, plans: HourPlan[], now: number, lookbackHours: number, targets: Set<DeleteTarget>): Promise<void> {
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
  // One scan of the uri (and rev) columns of the recent compacted files: which hold a row deleted since.
  for (const revised of [true, false]) {
    const files = genFiles.filter((g) => hasColumn(TABLES[g.table], 'rev') === revised).map((g) => g.file);
    if (files.length === 0) continue;
    const hit = await conn.runAndReadAll(
      `SELECT DISTINCT f.filename AS file FROM read_parquet(${fileList(files)}, filename = true, hive_partitioning = false, union_by_name = true) f
       JOIN compact_new_deletes d ON d.uri = f.uri${revised ? ' AND d.deleted_rev >= f.rev' : ''}`,
    );
    for (const row of hit.getRowObjectsJS()) {
      const g = byFile.get(String(row.file));
      if (g) g.plan.tables.set(g.table, 'deletes');
    }
  }
}
