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

/**
 * Beyond this many ranges in one step, a plain scan of the step's files is cheaper: at least 96 (measured
 * on a day of 24 hour files), and 2 per indexed file (measured with 16,384-row groups, ~6 per compacted
 * hour at the spec's rate, where reading up to a third of them by range still beat reading them all; at
 * today's 8,192 rows an hour holds ~12 and the budget is a sixth; doubling it, max(192, 4 per file),
 * measured no faster on the day's search mix: p50/p95 199/361 against 182/341 ms. A month's rare word has
 * ~500 ranges in 720 files).
 */
function maxRanges(indexedFiles: number): number {
  return Math.max(96, 2 * indexedFiles);
}

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

/** Index files read first when a step has many (a day's worth, spread over the step). */
const PROBE_FILES = 24;

/**
 * Whether a sample of the indexes says the piece is in more ranges than the step's budget: then the full
 * lookup would only conclude "scan" after reading most indexes (a common word over a month: ~1.4 s). An
 * estimate can only choose the plain scan, which is always correct.
 */
async function looksCommon(conn: DuckDBConnection, indexes: readonly string[], piece: string, max: number): Promise<boolean> {
  const stride = indexes.length / PROBE_FILES;
  const sample = Array.from({ length: PROBE_FILES }, (_, i) => indexes[Math.floor(i * stride)]!);
  const reader = await conn.runAndReadAll(`SELECT count(*) FROM (SELECT DISTINCT filename, lo FROM read_parquet($1::VARCHAR[], filename = true) WHERE contains(token, $2))`, [
    listValue(sample),
    piece,
  ]);
  const inSample = Number(reader.getRows()[0]![0]);
  return inSample * stride > max;
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
  const max = maxRanges(byIndex.size);
  if (byIndex.size > 4 * PROBE_FILES && (await looksCommon(conn, [...byIndex.keys()], piece, max))) return undefined;
  // No GROUP BY or ORDER BY, so the scan stops at the LIMIT: a common word reads a few index row groups,
  // not every index (a month's 720 indexes take ~2 s to read whole). Several tokens can contain the piece
  // in one range (`everyone`, `everyones`), hence the raw cap of twice the budget; reaching it means too
  // many ranges (a plain scan, always correct).
  const cap = 2 * max + 1;
  const rows = (
    await conn.runAndReadAll(`SELECT filename, lo, hi FROM read_parquet($1::VARCHAR[], filename = true) WHERE contains(token, $2) LIMIT ${cap}`, [
      listValue([...byIndex.keys()]),
      piece,
    ])
  ).getRows();
  if (rows.length >= cap) return undefined;
  const ranges = new Map<string, [bigint, bigint][]>();
  for (const f of byIndex.values()) ranges.set(f, []);
  const seen = new Set<string>();
  for (const [idx, lo, hi] of rows) {
    const key = `${String(idx)}\0${String(lo)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ranges.get(byIndex.get(String(idx))!)!.push([lo as bigint, hi as bigint]);
  }
  if (seen.size > max) return undefined;
  for (const list of ranges.values()) list.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return ranges;
}
