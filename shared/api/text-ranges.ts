/**
 * Looks a text search up in the token indexes of compacted posts files (shared/parquet/text-index.ts):
 * which row ranges of which files can hold a match. Files without an index are not in the answer (they
 * are read whole), and the answer is dropped when the word is so common that reading the ranges one by
 * one would cost more than reading the files.
 */
import { existsSync } from 'node:fs';
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import { indexPiece, textIndexFile } from '../parquet/text-index.js';
import type { RowRanges } from './sql.js';

/** Beyond this many ranges in one step, a plain scan of the step's files is cheaper. */
const MAX_RANGES = 96;

/** Index present or not, per generation file: both are immutable once the generation is in place. */
const hasIndex = new Map<string, boolean>();

function indexOf(file: string): string | undefined {
  if (!file.endsWith('.pq')) return undefined; // batch files of open hours: no index
  let has = hasIndex.get(file);
  if (has === undefined) {
    has = existsSync(textIndexFile(file));
    if (hasIndex.size > 200_000) hasIndex.clear();
    hasIndex.set(file, has);
  }
  return has ? textIndexFile(file) : undefined;
}

/** Row ranges per indexed file of `files` that can hold `text`; undefined: scan every file whole. */
export async function textRanges(conn: DuckDBConnection, files: readonly string[], text: string): Promise<RowRanges | undefined> {
  const piece = indexPiece(text);
  if (piece === undefined) return undefined;
  const byIndex = new Map<string, string>();
  for (const f of files) {
    const idx = indexOf(f);
    if (idx) byIndex.set(idx, f);
  }
  if (byIndex.size === 0) return undefined;
  const rows = (
    await conn.runAndReadAll(
      `SELECT filename, lo, hi FROM read_parquet($1::VARCHAR[], filename = true) WHERE contains(token, $2) GROUP BY ALL ORDER BY filename, lo LIMIT ${MAX_RANGES + 1}`,
      [listValue([...byIndex.keys()]), piece],
    )
  ).getRows();
  if (rows.length > MAX_RANGES) return undefined;
  const ranges = new Map<string, [bigint, bigint][]>();
  for (const f of byIndex.values()) ranges.set(f, []);
  for (const [idx, lo, hi] of rows) ranges.get(byIndex.get(String(idx))!)!.push([lo as bigint, hi as bigint]);
  return ranges;
}
