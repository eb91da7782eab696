/**
 * Recounts what the pipeline stored: rows and distinct rows (on each table's duplicate key) per table and
 * per UTC hour of `indexed_at`, read through the catalog exactly as the API reads the tree; Parquet bytes
 * per table and per day; quarantined lines.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, listValue } from '@duckdb/node-api';
import { sqlIdent } from '../../shared/duckdb.js';
import { listTableFiles } from '../../shared/parquet/catalog.js';
import { parseParquetPath } from '../../shared/parquet/layout.js';
import { TABLES, type TableName } from '../../shared/tables/index.js';
import { tableFor } from '../generator/truth.js';

/** The firehose tables the generator's truth counts (post_features comes from enrich, not the stream). */
export const COUNTED_TABLES = ['posts', 'likes', 'reposts', 'follows', 'blocks', 'profiles', 'records', 'deletes', 'identities', 'accounts'] as const satisfies readonly TableName[];
export type CountedTable = (typeof COUNTED_TABLES)[number];

export interface HourCount {
  rows: number;
  distinct: number;
}

export interface TableCounts {
  /** `YYYY-MM-DDTHH` → counts. */
  byHour: Map<string, HourCount>;
  rows: number;
  distinct: number;
  files: string[];
}

/** Counts every counted table through the catalog. */
export async function countTables(parquetDir: string): Promise<Map<CountedTable, TableCounts>> {
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1500MB' });
  const conn = await db.connect();
  const out = new Map<CountedTable, TableCounts>();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    for (const table of COUNTED_TABLES) {
      const files = await listTableFiles(parquetDir, table);
      const tc: TableCounts = { byHour: new Map(), rows: 0, distinct: 0, files };
      out.set(table, tc);
      if (!files.length) continue;
      const key = TABLES[table].dedupeKey.map(sqlIdent).join(', ');
      const reader = await conn.runAndReadAll(
        `SELECT strftime(indexed_at, '%Y-%m-%dT%H') AS h, count(*)::BIGINT AS n, count(DISTINCT (${key}))::BIGINT AS d
         FROM read_parquet($1::VARCHAR[], union_by_name = true) GROUP BY 1 ORDER BY 1`,
        [listValue(files)],
      );
      for (const [h, n, d] of reader.getRows()) {
        const c = { rows: Number(n), distinct: Number(d) };
        tc.byHour.set(String(h), c);
        tc.rows += c.rows;
        tc.distinct += c.distinct;
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return out;
}

export interface StorageFigures {
  /** table → bytes of the files the catalog lists. */
  byTable: Map<string, number>;
  /** `YYYY-MM-DD` → bytes. */
  byDay: Map<string, number>;
  total: number;
}

/** Bytes of the files a query would read (the catalog's set: no double counting of hard-linked generations). */
export async function storageFigures(counts: Map<CountedTable, TableCounts>): Promise<StorageFigures> {
  const byTable = new Map<string, number>();
  const byDay = new Map<string, number>();
  let total = 0;
  for (const [table, tc] of counts) {
    for (const f of tc.files) {
      const size = (await stat(f).catch(() => ({ size: 0 }))).size;
      byTable.set(table, (byTable.get(table) ?? 0) + size);
      const m = /year=(\d{4})\/month=(\d{2})\/day=(\d{2})/.exec(f.split(path.sep).join('/'));
      const day = m ? `${m[1]}-${m[2]}-${m[3]}` : 'unknown';
      byDay.set(day, (byDay.get(day) ?? 0) + size);
      total += size;
    }
  }
  return { byTable, byDay, total };
}

export interface QuarantineFigures {
  lines: number;
  byReason: Record<string, number>;
  /** Table the event would have gone to (from the raw line's kind/operation/collection, when readable). */
  byTable: Record<string, number>;
  /** One example per reason: the detail and the start of the raw line. */
  examples: Record<string, string>;
}

/** Quarantined lines by reason and by table (file names are per batch, so a re-run overwrites, never adds). */
export async function quarantineFigures(dir: string): Promise<QuarantineFigures> {
  const q: QuarantineFigures = { lines: 0, byReason: {}, byTable: {}, examples: {} };
  if (!existsSync(dir)) return q;
  for (const f of await readdir(dir)) {
    if (!f.endsWith('.ndjson')) continue;
    for (const line of (await readFile(path.join(dir, f), 'utf8')).split('\n')) {
      if (!line) continue;
      q.lines++;
      let e: { reason?: string; detail?: string; raw?: string | null } = {};
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        // keep the defaults
      }
      const reason = e.reason ?? 'unknown';
      q.byReason[reason] = (q.byReason[reason] ?? 0) + 1;
      const raw = e.raw ?? '';
      const kind = /"kind":"(\w+)"/.exec(raw)?.[1] ?? '?';
      const table = tableFor(kind, /"operation":"(\w+)"/.exec(raw)?.[1], /"collection":"([^"]+)"/.exec(raw)?.[1]);
      q.byTable[table] = (q.byTable[table] ?? 0) + 1;
      q.examples[reason] ??= `${e.detail ?? ''} ${raw.slice(0, 300)}`.trim();
    }
  }
  return q;
}

/** Batch (not compacted) Parquet files of a table anywhere in the tree. */
export async function batchFiles(parquetDir: string, table: string): Promise<string[]> {
  if (!existsSync(parquetDir)) return [];
  const rels = await readdir(parquetDir, { recursive: true, encoding: 'utf8' });
  return rels
    .filter((r) => {
      const p = parseParquetPath(r);
      return p !== undefined && !p.compacted && p.table === table;
    })
    .map((r) => path.join(parquetDir, r));
}
