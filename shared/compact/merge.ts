/**
 * The merge of one table of one hour: read the inputs (previous generation + new batch files), drop the
 * deleted rows (anti-join with `compact_deletes`), keep one row per dedupe key, sort, write ZSTD Parquet
 * to a new generation file durably.
 */
import { open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../duckdb.js';
import { listTableFiles } from '../parquet/catalog.js';
import { AFTER_POST_MARGIN_MS } from '../parquet/layout.js';
import { buildTextIndexSql, textIndexFile } from '../parquet/text-index.js';
import { sortKeySql, writtenColumnsSql, type TableDef } from '../tables/index.js';
import { fsyncDir } from './manifest.js';

/** Counts of one merge (the function's JSON summary, per table). */
export interface TableSummary {
  rows_in: number;
  rows_out: number;
  duplicates_removed: number;
  deleted_removed: number;
}

/** Tables whose rows a delete removes: those with a record `uri` (not the deletes themselves). */
export function deletable(t: TableDef): boolean {
  return t.name !== 'deletes' && t.columns.some((c) => c.name === 'uri');
}

export function hasColumn(t: TableDef, name: string): boolean {
  return t.columns.some((c) => c.name === name);
}

export function fileList(files: string[]): string {
  return `[${files.map(sqlString).join(', ')}]`;
}

export function readSql(files: string[], rowIds = false): string {
  const ids = rowIds ? ', filename = true, file_row_number = true' : '';
  return `read_parquet(${fileList(files)}, hive_partitioning = false, union_by_name = true${ids})`;
}

/**
 * Enrichment scores are not collapsed to the latest row per dedupe key: the API merges them per feature
 * (the latest non-null value across imports and models, ties to the later import), so keeping only the
 * latest row per (uri, model) would lose values a later partial import left out. A row is dropped only
 * when a later row of the same (uri, model) has a value for every feature it has: then it can never be
 * the answer for any feature. The kept rows keep their import order within a uri (the API's tie-break).
 */
export function mergesPerFeature(t: TableDef): boolean {
  return t.columns.some((c) => c.feature !== undefined);
}

/** The COPY query of a per-feature table (see mergesPerFeature). */
function perFeatureSql(table: TableDef, inputs: string[], del: string): string {
  const id = sqlIdent;
  const time = id(table.timeColumn);
  const cols = writtenColumnsSql(table, 'a');
  const sameKey = table.dedupeKey.map((k) => `b.${id(k)} IS NOT DISTINCT FROM a.${id(k)}`).join(' AND ');
  const ts = (x: string) => `coalesce(${x}.${time}, TIMESTAMPTZ '-infinity')`;
  const later = `(${ts('b')} > ${ts('a')} OR (${ts('b')} = ${ts('a')} AND (b.__f > a.__f OR (b.__f = a.__f AND b.__r > a.__r))))`;
  const covers = table.columns
    .filter((c) => c.feature !== undefined)
    .map((c) => `(a.${id(c.name)} IS NULL OR b.${id(c.name)} IS NOT NULL)`)
    .join(' AND ');
  // Inputs are in catalog order (previous generation, then batch files by name = import order): __f, __r
  // is the import order the API breaks ties with.
  return `
    WITH s AS (
      SELECT t.*, list_position(${fileList(inputs)}, t.filename) AS __f, t.file_row_number AS __r
      FROM ${readSql(inputs, true)} t WHERE NOT (${del})
    )
    SELECT ${cols} FROM s a
    WHERE NOT EXISTS (SELECT 1 FROM s b WHERE ${sameKey} AND ${later} AND ${covers})
    ORDER BY ${table.sortKey.map((k) => `a.${id(k)}`).join(', ')}, ${ts('a')}, a.__f, a.__r`;
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

export async function scalarRow(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  const r = await conn.runAndReadAll(sql);
  return (r.getRowObjectsJS()[0] ?? {}) as Record<string, unknown>;
}

/**
 * The anti-join condition: the row's record was deleted by a commit at or after the row's own. Repository
 * revisions (TIDs) order a record's commits whatever clock stamped the events; a record re-created under
 * the same rkey after its delete has a later revision and stays. Rows without a revision (post_features)
 * go with any delete of their uri.
 */
function deletedCond(t: TableDef, alias: string): string {
  const after = hasColumn(t, 'rev') ? ` AND d.deleted_rev >= ${alias}.rev` : '';
  return `EXISTS (SELECT 1 FROM compact_deletes d WHERE d.uri = ${alias}.uri${after})`;
}

/**
 * Builds `compact_deletes` (uri → latest delete revision), what merges anti-join with: the new deletes,
 * plus every delete filed from the hour `fromMs` on (minus the clock margin) when an hour with new batch
 * files is merged (a delete filed more than the margin before an hour began cannot remove a row seen in it).
 */
export async function loadDeletes(conn: DuckDBConnection, parquetDir: string, fromMs: number | undefined): Promise<number> {
  const files = fromMs === undefined ? [] : await listTableFiles(parquetDir, 'deletes', { fromUs: BigInt(fromMs - AFTER_POST_MARGIN_MS) * 1000n });
  const more = files.length ? `UNION ALL SELECT uri, rev AS deleted_rev FROM ${readSql(files)}` : '';
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE compact_deletes AS
     SELECT uri, max(deleted_rev) AS deleted_rev FROM (SELECT uri, deleted_rev FROM compact_new_deletes ${more}) GROUP BY uri`,
  );
  const row = await scalarRow(conn, `SELECT count(*)::BIGINT AS n FROM compact_deletes`);
  return Number(row.n);
}
/** How compacted files are encoded. */
export interface ParquetFormat {
  rowGroupSize: number;
  /** Row group size of tables the API reads row by row (`pointReads`). */
  pointRowGroupSize: number;
  zstdLevel: number;
}

export interface TableResult extends TableSummary {
  bytesBefore: number;
  bytesAfter: number;
}

/** Merges one table of one hour into a new generation file; returns the counts. Does not touch the manifest. */
export async function compactTable(
  conn: DuckDBConnection,
  table: TableDef,
  inputs: string[],
  target: string,
  format: ParquetFormat,
): Promise<TableResult> {
  const src = readSql(inputs);
  const del = deletable(table) ? deletedCond(table, 't') : 'false';
  const counts = await scalarRow(
    conn,
    `SELECT count(*)::BIGINT AS rows_in, count(*) FILTER (WHERE ${del})::BIGINT AS deleted FROM ${src} t`,
  );
  const cols = writtenColumnsSql(table, 't');
  const order = table.dedupeKeepLatest ? `ORDER BY t.${sqlIdent(table.dedupeKeepLatest)} DESC NULLS LAST` : '';
  const partition = table.dedupeKey.map((k) => `t.${sqlIdent(k)}`).join(', ');
  const query = mergesPerFeature(table)
    ? perFeatureSql(table, inputs, del)
    : `SELECT ${cols} FROM ${src} t
       WHERE NOT (${del})
       QUALIFY row_number() OVER (PARTITION BY ${partition} ${order}) = 1
       ORDER BY ${sortKeySql(table)}`;
  const tmp = `${target}.${process.pid}.tmp`;
  const rowGroupSize = table.pointReads ? format.pointRowGroupSize : format.rowGroupSize;
  const copied = await conn.runAndReadAll(
    `COPY (${query}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${Math.trunc(format.zstdLevel)}, ROW_GROUP_SIZE ${Math.trunc(rowGroupSize)})`,
  );
  const rowsOut = Number((copied.getRowObjectsJS()[0] as { Count?: unknown } | undefined)?.Count ?? 0);
  await fsyncFile(tmp);
  if (table.searchText) {
    // The token index goes in place before its generation file, and both before the manifest names them.
    const index = textIndexFile(target);
    const indexTmp = `${index}.${process.pid}.tmp`;
    await conn.run(buildTextIndexSql(tmp, table.searchText, indexTmp, rowGroupSize, format.zstdLevel));
    await fsyncFile(indexTmp);
    await rename(indexTmp, index);
  }
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
