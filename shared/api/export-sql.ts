/**
 * export without a small row limit: the SQL of its steps. The export streams in runs of consecutive
 * minutes of sort_at, in export order, each rendered by one statement; memory is about one run's worth
 * whatever the export's size. The steps, in the order the caller (service.ts) runs them:
 *
 * 1. `candidates`: the matching posts rows' keys as read (filters applied, nothing grouped: it streams),
 *    with the hashes of the uri `h` and of the author's DID `ah`, into a Parquet file of the export's own;
 * 2. `minutes`: candidate rows per minute of sort_at and posts file, cut into runs by exportRuns;
 * 3. `handles`: the candidates' authors' latest handles, into a temporary table;
 * 4. for each part k of n of the uris, `uriTables(k, n)` then `keys(k, n)`: into temporary tables, the
 *    uris with several candidate rows (a replay in an open hour, an edited post: compacted hours hold one
 *    row per uri, so these are few) with the row that wins, and the candidates' deletes and scores; then
 *    the part's candidates joined to them — one row per live post, with its handle and scores — into a
 *    keys file of the part. `dropTables` when every part is done, and `mergeKeys`;
 * 5. per run, `runLines`: its keys (read from the keys file by their sort_at) joined to their posts
 *    rows, read by file and row number from the files holding them, rendered and ordered.
 *
 * Before these steps an export kept every key of the export in temporary tables (numbered by a window
 * sort) and read its rows back slice by slice: 1M rows took 6.1–7.0 s at 541–599 MB of RSS, 1.9 s of
 * it preparing keys and 3.9 s reading 61 slices, against 1.4 s to render the same rows in one scan.
 */
import { timestampTZValue } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../duckdb.js';
import { TABLES } from '../tables/index.js';
import { csvLineSql, jsonLineSql } from './fields.js';
import type { SortOrder } from './params.js';
import { Binder, CAND_COLUMNS, deletesSql, FEATURE_OUT, featureConditions, featuresCte, handlesSql, hashPartSql, notDeletedSql, orderSql, OUTPUT_SOURCE_COLUMNS, postConditions, tableSql, type BuiltQuery, type QueryFilters, type Sources } from './sql.js';

/** Temporary tables (per connection) of an export, dropped once the keys file is written. */
const VERSIONS_TABLE = 'export_versions';
const DELETES_TABLE = 'export_deletes';
const SCORES_TABLE = 'export_scores';
const HANDLES_TABLE = 'export_handles';

/**
 * Orders a uri's rows by indexed_at, then file (a HUGEINT: epoch µs above the 64-bit file hash). The
 * winner's fh and fr come from one physical row because both take the arg_max of this key, unique per
 * (indexed_at, file). Two scalar arg_max rather than one of a struct: DuckDB's aggregate spills scalar
 * states past its memory limit but not struct ones (an export of 870k posts failed at 256 MB with the
 * struct).
 */
const PICK_KEY = 'epoch_us(indexed_at)::HUGEINT * 18446744073709551616 + fh::HUGEINT';

/** Width of the buckets runs are cut from: a minute, in µs. */
export const RUN_BUCKET_US = 60_000_000;

/** A run: the keys with sort_at in [fromUs, toUs), rendered by one statement. */
export interface ExportRun {
  fromUs: bigint;
  toUs: bigint;
  /** Candidate rows in it (an upper bound of its lines: deletes and older versions drop out). */
  rows: number;
  /** hash() of the posts files holding its candidates. */
  fileHashes: bigint[];
}

/**
 * Cuts the minutes (candidate rows per minute `m` and posts file hash `fh`) into runs of consecutive
 * minutes of at most `maxRows` rows (a minute above it is a run alone), in export order: newest first
 * for `newest`.
 */
export function exportRuns(minutes: readonly { m: number; fh: bigint; n: number }[], sort: SortOrder, maxRows: number): ExportRun[] {
  const byMinute = new Map<number, { n: number; files: Set<bigint> }>();
  for (const { m, fh, n } of minutes) {
    const e = byMinute.get(m) ?? { n: 0, files: new Set<bigint>() };
    e.n += n;
    e.files.add(fh);
    byMinute.set(m, e);
  }
  const order = [...byMinute.keys()].sort((a, b) => (sort === 'newest' ? b - a : a - b));
  const runs: ExportRun[] = [];
  let cur: { lo: number; hi: number; rows: number; files: Set<bigint> } | undefined;
  const close = () => {
    if (cur) runs.push({ fromUs: BigInt(cur.lo) * BigInt(RUN_BUCKET_US), toUs: BigInt(cur.hi + 1) * BigInt(RUN_BUCKET_US), rows: cur.rows, fileHashes: [...cur.files] });
    cur = undefined;
  };
  for (const m of order) {
    const { n, files } = byMinute.get(m)!;
    if (cur && cur.rows + n > maxRows) close();
    if (!cur) cur = { lo: m, hi: m, rows: 0, files: new Set() };
    cur.lo = Math.min(cur.lo, m);
    cur.hi = Math.max(cur.hi, m);
    cur.rows += n;
    for (const fh of files) cur.files.add(fh);
  }
  close();
  return runs;
}

/**
 * `tempPath(name)`: a temporary path of the caller's own for each file the export writes; `tempFiles`
 * lists those made so far, for the caller to remove when the export ends, however it ends.
 */
export function exportSteps(sources: Sources, f: QueryFilters, sort: SortOrder, tempPath: (name: string) => string) {
  const tempFiles: string[] = [];
  const made = (name: string): string => {
    const file = tempPath(name);
    tempFiles.push(file);
    return file;
  };
  const candidatesFile = made('candidates');
  const keysFiles: string[] = [];
  // Our own paths (COPY ... TO takes no bound parameter), spliced as quoted literals.
  const cand = `read_parquet(${sqlString(candidatesFile)})`;
  // Small row groups: the Parquet writer buffers one per thread (122,880 rows by default: +140 MB of RSS
  // for the candidates of 1M posts, against +50 MB at 16,384), and the runs skip them by sort_at.
  const parquetOut = '(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 16384)';

  const candidates = (): BuiltQuery => {
    const b = new Binder();
    const where = postConditions(b, f, undefined);
    return {
      sql:
        `COPY (SELECT ${CAND_COLUMNS}, hash(p.uri) AS h, hash(p.author_did) AS ah FROM ${tableSql(b, TABLES.posts, sources.posts, true)} p ` +
        `${where.length ? 'WHERE ' + where.join(' AND ') : ''}) TO ${sqlString(candidatesFile)} ${parquetOut}`,
      values: b.values,
    };
  };

  // Our own constant, spliced as a BIGINT literal (a bound bigint would be a HUGEINT, slower to divide).
  const minutes = `SELECT epoch_us(sort_at) // ${RUN_BUCKET_US}::BIGINT AS m, fh, count(*) AS n FROM ${cand} GROUP BY m, fh`;

  /**
   * Part `k` of `n` of the candidates' uris, by their hash `h` (the caller runs every part, each followed
   * by its `keys`, so that memory holds one part's share only): the uris with more than one candidate
   * row, found by `h` first (a narrow aggregate), with the winning row (the latest indexed_at, as search
   * picks it) and their latest rev; and the candidates' latest deletes and scores, matched by hash (no set
   * of uri strings is held). Read once for the export: when each run read every later deletes and scores
   * file itself, that was half of the runs' time and most of their memory (21 runs of a 1M-post export).
   */
  const uriTables = (k: number, n: number): BuiltQuery[] => {
    const part = hashPartSql('h', { k, n }); // also checks k and n
    const inPart = n > 1 ? part : 'true';
    const ofPart = `hash(uri) IN (SELECT h FROM ${cand} WHERE ${inPart})`;
    const fill = (table: string, select: (b: Binder) => string): BuiltQuery => {
      const b = new Binder();
      return { sql: `CREATE OR REPLACE TEMP TABLE ${table} AS ${select(b)}`, values: b.values };
    };
    return [
      fill(
        VERSIONS_TABLE,
        () =>
          `WITH multi AS (SELECT h FROM ${cand} WHERE ${inPart} GROUP BY h HAVING count(*) > 1) ` +
          `SELECT uri, arg_max(fh, ${PICK_KEY}) AS fh, arg_max(fr, ${PICK_KEY}) AS fr, max(rev) AS rev FROM ${cand} ` +
          `WHERE h IN (SELECT h FROM multi) GROUP BY uri HAVING count(*) > 1`,
      ),
      fill(DELETES_TABLE, (b) => deletesSql(b, sources.deletes, ofPart)),
      fill(SCORES_TABLE, (b) => featuresCte(b, sources, ofPart)),
    ];
  };

  /**
   * The latest handle of each candidate's author, found by the hash of the DID (`ah`; a collision only
   * adds a handle no key joins to): the distinct DIDs of a month's 10M candidates as strings held
   * ~130 MB.
   */
  const handles = (): BuiltQuery => {
    const b = new Binder();
    const sql = `CREATE OR REPLACE TEMP TABLE ${HANDLES_TABLE} AS ${handlesSql(b, sources.identities, `hash(did) IN (SELECT DISTINCT ah FROM ${cand})`)}`;
    return { sql, values: b.values };
  };

  /**
   * One row per live post of part `k` of `n` (after its uriTables), into a keys file of its own: a uri
   * with several rows keeps only the winner and is checked against deletes with its latest rev; with
   * feature filters, only the posts whose scores pass. Streams: the candidates are probed against the
   * part's tables in file order, so the file stays nearly sorted by sort_at and the runs skip most of
   * its row groups. In one part, the scores' hash table of 1M candidates added ~130 MB of RSS.
   */
  const keys = (k: number, n: number): BuiltQuery => {
    const b = new Binder();
    const keysFile = made(`keys-${k}`);
    keysFiles.push(keysFile);
    const part = hashPartSql('c.h', { k, n }); // also checks k and n
    const inPart = n > 1 ? part : 'true';
    const scores = f.features.length > 0 ? `JOIN ${SCORES_TABLE} s ON s.uri = k.uri AND ${featureConditions(b, f, 's').join(' AND ')}` : `LEFT JOIN ${SCORES_TABLE} s ON s.uri = k.uri`;
    const picked =
      `SELECT c.sort_at, c.uri, c.fh, c.fr, coalesce(v.rev, c.rev) AS rev FROM ${cand} c LEFT JOIN ${VERSIONS_TABLE} v ON v.uri = c.uri ` +
      `WHERE ${inPart} AND (v.uri IS NULL OR (v.fh = c.fh AND v.fr = c.fr))`;
    return {
      sql:
        `COPY (SELECT k.sort_at, k.fh, k.fr, h.handle AS author_handle, ${FEATURE_OUT.map((x) => 's.' + x).join(', ')} ` +
        `FROM (${picked}) k LEFT JOIN ${DELETES_TABLE} d ON d.uri = k.uri ${scores} LEFT JOIN ${HANDLES_TABLE} h ON h.did = split_part(k.uri, '/', 3) ` +
        `WHERE ${notDeletedSql('k')}) TO ${sqlString(keysFile)} ${parquetOut}`,
      values: b.values,
    };
  };

  const dropTables = [VERSIONS_TABLE, DELETES_TABLE, SCORES_TABLE, HANDLES_TABLE].map((t) => `DROP TABLE IF EXISTS ${t}`).join('; ');

  /**
   * With several parts, their keys files concatenated into one (in part order: each part's rows stay
   * nearly sorted by sort_at, so its row groups still prune), for the runs to open one file each: runs
   * over 40 parts' files took twice as long (10M rows of the month, 112 s against 52 for 4 parts).
   * Returns the statement and the part files it replaces (the caller removes them once it has run).
   */
  const mergeKeys = (): { query: BuiltQuery; replaced: string[] } | undefined => {
    if (keysFiles.length < 2) return undefined;
    const replaced = keysFiles.splice(0, keysFiles.length);
    const merged = made('keys');
    keysFiles.push(merged);
    const sql = `COPY (SELECT * FROM read_parquet([${replaced.map(sqlString).join(', ')}])) TO ${sqlString(merged)} ${parquetOut}`;
    return { query: { sql, values: [] }, replaced };
  };

  /**
   * The run's lines in export order, at most `limit` (after every part's keys): its keys joined to their rows in `files` (the
   * run's fileHashes, by name) by file and row number. The sort_at bounds let both readers skip row
   * groups (compacted posts files are sorted by sort_at).
   */
  const runLines = (run: ExportRun, files: readonly string[], format: 'csv' | 'ndjson', limit?: number): BuiltQuery => {
    const b = new Binder();
    const from = b.bind(timestampTZValue(run.fromUs));
    const to = b.bind(timestampTZValue(run.toUs));
    const read = OUTPUT_SOURCE_COLUMNS.map((c) => `p.${sqlIdent(c)}`).join(', ');
    const keyCols = ['author_handle', ...FEATURE_OUT].map((c) => `k.${c}`).join(', ');
    const line = format === 'csv' ? csvLineSql('r') : jsonLineSql('r');
    const runKeys = `SELECT * FROM read_parquet([${keysFiles.map(sqlString).join(', ')}]) WHERE sort_at >= ${from} AND sort_at < ${to}`;
    return {
      sql:
        `SELECT line FROM (SELECT ${line} AS line, r.sort_at, r.uri FROM (` +
        `SELECT ${read}, ${keyCols} FROM ${tableSql(b, TABLES.posts, files, true)} p JOIN (${runKeys}) k ON k.fh = hash(p.filename) AND k.fr = p.file_row_number ` +
        `WHERE p.sort_at >= ${from} AND p.sort_at < ${to}) r) r ORDER BY ${orderSql(sort, 'r')}${limit !== undefined ? ` LIMIT ${b.bind(limit)}` : ''}`,
      values: b.values,
    };
  };

  return { candidates, minutes, uriTables, handles, keys, dropTables, mergeKeys, runLines, tempFiles, candidatesFile };
}
