/**
 * Writes validated score rows as one Parquet batch file of `post_features`, where the catalog lists it:
 * `<hour of the import>/post_features-<batch>.parquet`. Written to a temporary name, fsynced, renamed,
 * folder chain fsynced: a reader sees the whole file or nothing. Compaction later merges the hour's files
 * (dedupe key uri + model, latest scored_at), like any batch file.
 */
import { randomInt } from 'node:crypto';
import { access, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { timestampTZValue, type DuckDBInstance } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../duckdb.js';
import { commitFile, fsyncDir, tempPathFor } from '../flush/durable.js';
import { batchFilePath, batchName, hourOfMs, partitionDir } from '../parquet/layout.js';
import { createTableSql, sortKeySql, TABLES, withDerivedSql } from '../tables/index.js';
import type { ScoreRow } from './parse.js';

let seq = 0;

/**
 * A batch name in the flush's format (`<ms>-<n>_<ms>-<n>`, so layout and catalog treat the file like any
 * other): the import time (names sort by it within an hour), a per-process counter and a random number.
 */
export function enrichBatchName(nowMs: number): string {
  seq = (seq + 1) % 1_000_000_000;
  // The padded counter first: two imports of one process in the same millisecond still sort in order.
  return batchName(`${nowMs}-${String(seq).padStart(9, '0')}`, `${nowMs}-${randomInt(1_000_000_000)}`);
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

export interface WriteOptions {
  parquetDir: string;
  nowMs: number;
  rowGroupSize?: number;
}

/** Writes `rows` (non-empty) and returns the file's path relative to the Parquet root (with `/`). */
export async function writeScoreFile(db: DuckDBInstance, rows: readonly ScoreRow[], opts: WriteOptions): Promise<string> {
  const def = TABLES.post_features;
  const hour = hourOfMs(opts.nowMs);
  const dir = partitionDir(opts.parquetDir, hour);
  let target = batchFilePath(opts.parquetDir, hour, 'post_features', enrichBatchName(opts.nowMs));
  while (await exists(target)) target = batchFilePath(opts.parquetDir, hour, 'post_features', enrichBatchName(opts.nowMs));
  const tmp = tempPathFor(target);
  const table = `enrich_${process.pid}_${seq}_${randomInt(1_000_000)}`;
  const conn = await db.connect();
  try {
    await conn.run(createTableSql(def, table));
    const app = await conn.createAppender(table);
    try {
      for (const r of rows) {
        for (const c of def.columns) {
          if (c.derived) app.appendNull(); // computed in the COPY below
          else if (c.name === 'uri') app.appendVarchar(r.uri);
          else if (c.name === 'model') r.model === null ? app.appendNull() : app.appendVarchar(r.model);
          else if (c.name === 'scored_at') app.appendTimestampTZ(timestampTZValue(r.scoredAtUs));
          else {
            const v = r.scores[c.name];
            v === undefined ? app.appendNull() : app.appendDouble(v);
          }
        }
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
    await mkdir(dir, { recursive: true });
    const rowGroup = opts.rowGroupSize ?? 122_880;
    await conn.run(
      `COPY (${withDerivedSql(def, sqlIdent(table))} ORDER BY ${sortKeySql(def)}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${Math.max(1, Math.floor(rowGroup))})`,
    );
    await commitFile(tmp, target);
    for (let d = dir; d.startsWith(opts.parquetDir); d = path.dirname(d)) {
      await fsyncDir(d);
      if (d === opts.parquetDir) break;
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${sqlIdent(table)}`).catch(() => undefined);
    conn.closeSync();
  }
  return path.relative(opts.parquetDir, target).split(path.sep).join('/');
}
