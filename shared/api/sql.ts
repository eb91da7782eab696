/**
 * Filters → DuckDB SQL. Every user value is a bound parameter (`$n`); the only identifiers spliced in
 * are column names from our own table definitions (quoted) and feature names checked against them.
 *
 * The queries read posts, then: drop posts whose delete event arrived (`deletes`), keep one row per uri
 * (duplicates from replays in not-yet-compacted batch files, or an updated post: the latest version
 * among the matching rows wins), and join enrichment scores (`post_features`, the latest non-null
 * value of each score per uri, across models).
 */
import { listValue, timestampTZValue, type DuckDBValue } from '@duckdb/node-api';
import { sqlIdent } from '../duckdb.js';
import { COLLECTIONS, FEATURE_COLUMNS, TABLES, uriKeySql, type TableDef } from '../tables/index.js';
import type { Cursor } from './cursor.js';
import { POST_FIELDS, csvLineSql, jsonLineSql } from './fields.js';
import type { Filters, SortOrder } from './params.js';
import { exactPhrasePattern, substringPattern } from './text-match.js';

/** Collects bound values and hands out their `$n` placeholders. */
export class Binder {
  readonly values: DuckDBValue[] = [];
  bind(v: DuckDBValue): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** The Parquet files each table contributes (from the catalog). */
export interface Sources {
  posts: string[];
  deletes: string[];
  postFeatures: string[];
  identities: string[];
}

/** Filters after username resolution. */
export interface QueryFilters extends Filters {
  authorDid?: string;
}

/**
 * A table scan over `files`, or an empty relation with the table's columns when there are none. With
 * `rowIds`, also `filename` and `file_row_number`: the identity of a physical row, so that of several
 * identical copies (replays) exactly one can be picked.
 */
export function tableSql(b: Binder, table: TableDef, files: readonly string[], rowIds = false): string {
  if (files.length === 0) {
    const ids = rowIds ? ', NULL::VARCHAR AS filename, NULL::BIGINT AS file_row_number' : '';
    return `(SELECT ${table.columns.map((c) => `NULL::${c.type} AS ${sqlIdent(c.name)}`).join(', ')}${ids} WHERE false)`;
  }
  const ids = rowIds ? ', filename = true, file_row_number = true' : '';
  return `read_parquet(${b.bind(listValue([...files]))}::VARCHAR[], union_by_name = true, hive_partitioning = false${ids})`;
}

/**
 * Scores per uri: for each feature, the latest non-null value across imports and models. "Latest" =
 * greatest scored_at, ties to the later import: the catalog lists files in import order (hours oldest
 * first; in an hour the compacted generation, then batch files by name = import time), so the key is
 * (scored_at, file_index, file_row_number) packed into one HUGEINT (a struct key or a window per
 * (uri, model) measured 1.5-4x slower on 1M score rows).
 */
export function featuresCte(b: Binder, sources: Sources, uriCondition?: string): string {
  const order = sources.postFeatures.length
    ? 'epoch_us(scored_at)::HUGEINT * 18446744073709551616 + file_index::HUGEINT * 4294967296 + file_row_number'
    : 'epoch_us(scored_at)';
  const cols = FEATURE_COLUMNS.map((c) => {
    const n = sqlIdent(c.name);
    return `arg_max(${n}, ${order}) FILTER (WHERE ${n} IS NOT NULL) AS ${sqlIdent('f_' + c.name)}`;
  });
  const where = uriCondition ? `WHERE ${uriCondition}` : '';
  return `SELECT uri, ${cols.join(', ')}, true AS f_scored FROM ${tableSql(b, TABLES.post_features, sources.postFeatures, true)} ${where} GROUP BY uri`;
}

/** The conditions of the feature filters on a row `alias` with the f_* columns (featuresCte). */
export function featureConditions(b: Binder, f: QueryFilters, alias: string): string[] {
  return f.features.map((ff) => {
    if (!FEATURE_COLUMNS.some((c) => c.name === ff.feature)) throw new Error(`unchecked feature ${ff.feature}`);
    return `${alias}.${sqlIdent('f_' + ff.feature)} ${ff.op} ${b.bind(ff.value)}`;
  });
}

/** The latest handle of each DID in `files` (identities), optionally only of the DIDs `didCondition` keeps. */
export function handlesSql(b: Binder, files: readonly string[], didCondition?: string): string {
  return (
    `SELECT did, arg_max(handle, indexed_at) FILTER (WHERE handle IS NOT NULL) AS handle FROM ${tableSql(b, TABLES.identities, files)} ` +
    `${didCondition ? `WHERE ${didCondition} ` : ''}GROUP BY did`
  );
}

export const FEATURE_OUT = [...FEATURE_COLUMNS.map((c) => sqlIdent('f_' + c.name)), 'f_scored'];

/** WHERE conditions on a posts row aliased `p`. */
export function postConditions(b: Binder, f: QueryFilters, cursor: Cursor | undefined): string[] {
  const w: string[] = [];
  if (f.text !== undefined) {
    if (f.exact) {
      const phrase = b.bind(f.text);
      w.push(`contains(p.text, ${phrase})`, `regexp_matches(p.text, ${b.bind(exactPhrasePattern(f.text))})`);
    } else {
      w.push(`regexp_matches(p.text, ${b.bind(substringPattern(f.text))})`);
    }
  }
  if (f.authorDid !== undefined) w.push(`p.author_did = ${b.bind(f.authorDid)}`);
  if (f.startUs !== undefined) w.push(`p.sort_at >= ${b.bind(timestampTZValue(f.startUs))}`);
  if (f.endUs !== undefined) w.push(`p.sort_at < ${b.bind(timestampTZValue(f.endUs))}`);
  if (f.lang !== undefined) {
    const lang = b.bind(f.lang);
    // `en` also matches regional tags such as `en-US`.
    w.push(`len(list_filter(p.langs, x -> lower(x) = ${lang} OR starts_with(lower(x), ${lang} || '-'))) > 0`);
  }
  if (f.hashtag !== undefined) w.push(`list_contains(list_transform(p.hashtags, x -> lower(x)), ${b.bind(f.hashtag)})`);
  if (f.hasMedia !== undefined) w.push(`p.has_media = ${b.bind(f.hasMedia)}`);
  if (f.isReply !== undefined) w.push(`(p.reply_parent_uri IS NOT NULL) = ${b.bind(f.isReply)}`);
  if (cursor) {
    const t = b.bind(timestampTZValue(cursor.sortAtUs));
    const u = b.bind(cursor.uri);
    // The plain range condition lets DuckDB skip row groups by their sort_at min/max.
    if (cursor.sort === 'newest') w.push(`p.sort_at <= ${t}`, `(p.sort_at < ${t} OR p.uri < ${u})`);
    else w.push(`p.sort_at >= ${t}`, `(p.sort_at > ${t} OR p.uri > ${u})`);
  }
  return w;
}

/**
 * The latest delete (by repository revision) of each post uri in `files` (deletes), optionally only of
 * the uris `uriCondition` keeps. A delete hides the versions of its record committed before it
 * (`notDeletedSql`): revisions are TIDs, ordered per repository by the PDS that signs them, so the order
 * holds whatever clock the Jetstream instance that stamped time_us had; a record re-created under the
 * same rkey after its delete has a later revision and stays.
 */
export function deletesSql(b: Binder, files: readonly string[], uriCondition?: string): string {
  return (
    `SELECT uri, max(rev) AS deleted_rev FROM ${tableSql(b, TABLES.deletes, files)} ` +
    `WHERE collection = ${b.bind(COLLECTIONS.post)}${uriCondition ? ` AND ${uriCondition}` : ''} GROUP BY uri`
  );
}

/** True when the row `alias` (with `rev`), left-joined to deletesSql as `d`, is not deleted. */
export const notDeletedSql = (alias: string) => `(d.deleted_rev IS NULL OR d.deleted_rev < ${alias}.rev)`;

/** The columns of a posts row `p` that deduplication and the delete check read. */
const CAND_KEY_COLUMNS = 'p.uri, p.sort_at, p.indexed_at, p.rev';
/** The same, and the file and row that hold it (the read_parquet needs filename and file_row_number). */
export const CAND_COLUMNS = `${CAND_KEY_COLUMNS}, hash(p.filename) AS fh, p.file_row_number AS fr`;

/**
 * CTEs ending in `live` (for counts): one row per matching post that is not deleted — `uri`, `sort_at`,
 * `indexed_at` of its latest version — plus the f_* score columns when feature filters are present.
 * Only key columns are carried: deduplication is a hash aggregate over them, not a sort of whole rows.
 */
export function liveKeysCtes(b: Binder, sources: Sources, f: QueryFilters, uriPart?: UriPart): { ctes: string[]; hasFeatures: boolean } {
  const where = postConditions(b, f, undefined);
  if (uriPart) where.push(uriPartSql('p.uri', uriPart));
  const ctes = [
    `cand AS NOT MATERIALIZED (SELECT ${CAND_KEY_COLUMNS} FROM ${tableSql(b, TABLES.posts, sources.posts)} p ${where.length ? 'WHERE ' + where.join(' AND ') : ''})`,
    // The version picked is the latest.
    `keys AS (SELECT uri, max(indexed_at) AS indexed_at, arg_max(sort_at, indexed_at) AS sort_at FROM cand GROUP BY uri)`,
    `del AS (${deletesSql(b, sources.deletes, uriPart ? uriPartSql('uri', uriPart) : undefined)})`,
    // The latest revision, what a delete must follow to hide the post, for the deleted uris only: as a
    // max() beside the others it kept a 13-character string per uri outside DuckDB's memory accounting
    // (a month's count: 81 s and 5.2 GB RSS at a 3 GB limit, against 25 s and 3.2 GB without it). Read
    // from the posts files without the text filter (its regular expression would run a second time).
    `revs AS (SELECT uri, max(rev) AS rev FROM ${tableSql(b, TABLES.posts, sources.posts)} p ` +
      `WHERE uri IN (SELECT uri FROM del) GROUP BY uri)`,
  ];
  const hasFeatures = f.features.length > 0;
  let featJoin = '';
  if (hasFeatures) {
    ctes.push(`feat AS (${featuresCte(b, sources)})`);
    featJoin = `JOIN feat f ON f.uri = k.uri AND ${featureConditions(b, f, 'f').join(' AND ')} `;
  }
  ctes.push(
    `live AS (SELECT k.uri, k.sort_at, k.indexed_at${hasFeatures ? ', ' + FEATURE_OUT.map((x) => 'f.' + x).join(', ') : ''} ` +
      `FROM keys k ${featJoin}LEFT JOIN del d ON d.uri = k.uri LEFT JOIN revs r ON r.uri = k.uri WHERE ${notDeletedSql('r')})`,
  );
  return { ctes, hasFeatures };
}

/** Source columns of posts the output needs (POST_FIELDS minus the computed author_handle). */
export const OUTPUT_SOURCE_COLUMNS = POST_FIELDS.filter((c) => c.name !== 'author_handle').map((c) => c.name);

export function orderSql(sort: SortOrder, r: string): string {
  const dir = sort === 'newest' ? 'DESC' : 'ASC';
  return `${r}.sort_at ${dir}, ${r}.uri ${dir}`;
}

/**
 * Rows with author_handle and scores attached, from relation `page` (CTEs appended to `ctes`). With
 * `restrict` (a materialised search page) only the page's uris and authors are looked up; an export
 * joins whole tables instead, so its rows stream without being held.
 */
function decorate(b: Binder, sources: Sources, ctes: string[], hasFeatures: boolean, restrict: boolean): string {
  if (!hasFeatures) ctes.push(`pfeat AS (${featuresCte(b, sources, restrict ? 'uri IN (SELECT uri FROM page)' : undefined)})`);
  ctes.push(`handles AS (${handlesSql(b, sources.identities, restrict ? 'did IN (SELECT author_did FROM page)' : undefined)})`);
  const feats = hasFeatures ? '' : ', ' + FEATURE_OUT.map((x) => 'pf.' + x).join(', ');
  return (
    `SELECT page.*${feats}, h.handle AS author_handle FROM page ` +
    `${hasFeatures ? '' : 'LEFT JOIN pfeat pf ON pf.uri = page.uri '}LEFT JOIN handles h ON h.did = page.author_did`
  );
}

export interface BuiltQuery {
  sql: string;
  values: DuckDBValue[];
}

/**
 * A row number as an SQL literal. Row numbers come from DuckDB (a search's phase 1), never from a
 * request; as literals they become a filter the Parquet reader prunes row groups with (a bound list does not).
 */
function rowLiteral(r: bigint): string {
  return BigInt.asIntN(64, r).toString();
}

/** Row numbers grouped by the file they are in, in first-seen order. */
function groupRowsByFile(rows: Iterable<{ file: string; row: bigint }>): Map<string, bigint[]> {
  const byFile = new Map<string, bigint[]>();
  for (const { file, row } of rows) {
    let list = byFile.get(file);
    if (!list) byFile.set(file, (list = []));
    list.push(row);
  }
  return byFile;
}

/** Posts files whose matches can only be in these row ranges ([first, last] row number), from the token index. */
export type RowRanges = ReadonlyMap<string, readonly (readonly [bigint, bigint])[]>;

/**
 * The posts rows of `files` with row ids; a file listed in `ranges` contributes only the rows of its
 * ranges (none when its list is empty), read by `file_row_number`, which prunes the other row groups.
 */
function postsScanSql(b: Binder, files: readonly string[], ranges?: RowRanges): string {
  if (!ranges) return tableSql(b, TABLES.posts, files, true);
  const whole = files.filter((f) => !ranges.has(f));
  const parts: string[] = [];
  if (whole.length) parts.push(`SELECT * FROM ${tableSql(b, TABLES.posts, whole, true)}`);
  // One read per file: DuckDB prunes row groups with an OR of row-number ranges as with one range.
  for (const [file, list] of ranges) {
    if (list.length === 0) continue;
    const within = list.map(([lo, hi]) => `file_row_number BETWEEN ${rowLiteral(lo)} AND ${rowLiteral(hi)}`).join(' OR ');
    parts.push(`SELECT * FROM read_parquet(${b.bind(file)}::VARCHAR, hive_partitioning = false, filename = true, file_row_number = true) WHERE ${within}`);
  }
  return parts.length ? `(${parts.join(' UNION ALL BY NAME ')})` : tableSql(b, TABLES.posts, [], true);
}

/**
 * search, phase 1: the sort keys of the first `limit` live posts among `sources.posts`. Reads only the
 * key columns (plus what the filters need), takes the top `scan` rows, and only for those checks
 * deletes and duplicates. Columns: `uri`, `t` (sort_at µs), `ia` (indexed_at µs), `f`, `r` (the file
 * and row number of the chosen version, for phase 2), and `n_top` = how many rows the top held (when it
 * equals `scan`, more rows exist beyond it). Always at least one row (uri NULL when nothing matched).
 * With `upToUs`, only posts with sort_at at or before it (see findKeysProgressively).
 */
export function keysSql(sources: Sources, f: QueryFilters, sort: SortOrder, scan: number, limit: number, cursor?: Cursor, ranges?: RowRanges, upToUs?: bigint): BuiltQuery {
  const b = new Binder();
  const top = keysTopParts(b, sources, f, sort, scan, cursor, ranges, upToUs);
  const rest = keysRestParts(b, sources, sort, limit, 'top');
  return { sql: `WITH ${[...top.ctes, `top AS MATERIALIZED (${top.select})`, ...rest.ctes].join(',\n')}\n${rest.select}`, values: b.values };
}

/** Temporary table (per connection) holding a search step's top rows when keysSql runs in two statements. */
export const STEP_TOP_TABLE = 'search_step_top';

/** keysSql's first half: the step's top `scan` rows into STEP_TOP_TABLE (so that its uris can pick the deletes files). */
export function keysTopSql(sources: Sources, f: QueryFilters, sort: SortOrder, scan: number, cursor?: Cursor, ranges?: RowRanges, upToUs?: bigint): BuiltQuery {
  const b = new Binder();
  const top = keysTopParts(b, sources, f, sort, scan, cursor, ranges, upToUs);
  return { sql: `CREATE OR REPLACE TEMP TABLE ${STEP_TOP_TABLE} AS WITH ${top.ctes.join(',\n')}\n${top.select}`, values: b.values };
}

/** keysSql's second half, over STEP_TOP_TABLE: deletes and duplicates checked, the first `limit` keys (same columns). */
export function keysFromTopSql(sources: Sources, sort: SortOrder, limit: number): BuiltQuery {
  const b = new Binder();
  const rest = keysRestParts(b, sources, sort, limit, STEP_TOP_TABLE);
  return { sql: `WITH ${rest.ctes.join(',\n')}\n${rest.select}`, values: b.values };
}

/** The CTEs before the step's top, and the top's SELECT (the `scan` best matching rows, key columns only). */
function keysTopParts(b: Binder, sources: Sources, f: QueryFilters, sort: SortOrder, scan: number, cursor?: Cursor, ranges?: RowRanges, upToUs?: bigint): { ctes: string[]; select: string } {
  const where = postConditions(b, f, cursor);
  // A plain bound on sort_at: DuckDB skips the row groups whose minimum is past it.
  if (upToUs !== undefined) where.push(`p.sort_at <= ${b.bind(timestampTZValue(upToUs))}`);
  const ctes = [
    `cand AS (SELECT p.uri, p.sort_at, p.indexed_at, p.rev, p.cid, p.filename, p.file_row_number FROM ${postsScanSql(b, sources.posts, ranges)} p ${where.length ? 'WHERE ' + where.join(' AND ') : ''})`,
  ];
  let from = 'cand c';
  if (f.features.length > 0) {
    ctes.push(`feat AS (${featuresCte(b, sources)})`);
    from = `cand c JOIN feat f ON f.uri = c.uri AND ${featureConditions(b, f, 'f').join(' AND ')}`;
  }
  return { ctes, select: `SELECT c.* FROM ${from} ORDER BY ${orderSql(sort, 'c')} LIMIT ${b.bind(scan)}` };
}

/** The CTEs and final SELECT after the step's top (relation `top`): deletes of its uris, one version per uri, the first `limit`. */
function keysRestParts(b: Binder, sources: Sources, sort: SortOrder, limit: number, top: string): { ctes: string[]; select: string } {
  const ctes = [
    `del AS (${deletesSql(b, sources.deletes, `uri IN (SELECT uri FROM ${top})`)})`,
    `live AS (SELECT t.* FROM ${top} t LEFT JOIN del d ON d.uri = t.uri WHERE ${notDeletedSql('t')} ` +
      `QUALIFY row_number() OVER (PARTITION BY t.uri ORDER BY t.indexed_at DESC, t.cid DESC) = 1 ORDER BY ${orderSql(sort, 't')} LIMIT ${b.bind(limit)})`,
  ];
  return {
    ctes,
    select: `SELECT k.uri, epoch_us(k.sort_at) AS t, epoch_us(k.indexed_at) AS ia, k.filename AS f, k.file_row_number AS r, c.n_top FROM (SELECT count(*) AS n_top FROM ${top}) c LEFT JOIN live k ON true ORDER BY ${orderSql(sort, 'k')}`,
  };
}

/**
 * Of `files` (post_features or deletes: tables with `uri_key`), those that may hold a row of one of the
 * uris `keys` selects (column `filename`): found by uri_key alone, 8 bytes a row, where matching the uris
 * themselves decodes ~70 (a month's 13.7M score rows: ~100-140 ms against 450-620). A key match may be a
 * collision (the query that follows matches uris exactly); a file written before uri_key existed reads
 * NULL there and is always kept.
 */
function filesWithKeysSql(b: Binder, files: readonly string[], keys: string): string {
  return (
    `SELECT DISTINCT filename FROM read_parquet(${b.bind(listValue([...files]))}::VARCHAR[], union_by_name = true, hive_partitioning = false, filename = true) ` +
    `WHERE uri_key IS NULL OR uri_key IN (${keys})`
  );
}

/** filesWithKeysSql for a list of uris (a page's). */
export function filesWithUrisSql(files: readonly string[], uris: readonly string[]): BuiltQuery {
  const b = new Binder();
  const sql = filesWithKeysSql(b, files, `SELECT ${uriKeySql('u')} FROM unnest(${b.bind(listValue([...uris]))}::VARCHAR[]) t(u)`);
  return { sql, values: b.values };
}

/** filesWithKeysSql for the uris of a search step's top (STEP_TOP_TABLE). */
export function filesWithStepTopUrisSql(files: readonly string[]): BuiltQuery {
  const b = new Binder();
  return { sql: filesWithKeysSql(b, files, `SELECT ${uriKeySql('uri')} FROM ${STEP_TOP_TABLE}`), values: b.values };
}

/** The `limit`-th smallest sort_at (µs) of the posts rows in `files` matching the filters (deletes and duplicates not checked). */
export function sortAtProbeSql(files: readonly string[], f: QueryFilters, limit: number, cursor?: Cursor, ranges?: RowRanges): BuiltQuery {
  const b = new Binder();
  const where = postConditions(b, f, cursor);
  return {
    sql: `SELECT epoch_us(p.sort_at) FROM ${postsScanSql(b, files, ranges)} p ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY p.sort_at LIMIT 1 OFFSET ${b.bind(limit - 1)}`,
    values: b.values,
  };
}

/**
 * search (and a row-limited export), phase 2: the full rows phase 1 chose, addressed by file and row
 * number (the same physical version phase 1 checked against the filters and deletes), as JSON or CSV
 * lines in page order. A `file_row_number IN (…)` filter per file lets DuckDB decode only the row groups
 * holding those rows (compacted posts files have small row groups for this; see PARQUET_POINT_ROW_GROUP_SIZE).
 */
export function pageSql(sources: Sources, keys: readonly { file: string; row: bigint }[], sort: SortOrder, format: 'json' | 'csv' = 'json'): BuiltQuery {
  const b = new Binder();
  const cols = OUTPUT_SOURCE_COLUMNS.map((c) => sqlIdent(c)).join(', ');
  const reads = [...groupRowsByFile(keys)].map(
    ([file, rows]) => `SELECT ${cols} FROM read_parquet(${b.bind(file)}::VARCHAR, file_row_number = true) WHERE file_row_number IN (${rows.map(rowLiteral).join(', ')})`,
  );
  const ctes = [`page AS MATERIALIZED (${reads.length ? reads.join(' UNION ALL ') : `SELECT ${cols} FROM ${tableSql(b, TABLES.posts, [])}`})`];
  const rows = decorate(b, sources, ctes, false, true);
  const line = format === 'csv' ? csvLineSql('r') : jsonLineSql('r');
  return { sql: `WITH ${ctes.join(',\n')}\nSELECT ${line} AS line FROM (${rows}) r ORDER BY ${orderSql(sort, 'r')}`, values: b.values };
}

/**
 * How many partitions by hash of the uri `rows` rows are processed in, `partitionRows` each at most on
 * average (an export's candidates, EXPORT_PARTITION_ROWS; a count's posts, COUNTS_PARTITION_ROWS).
 */
export function partitionsFor(rows: number, partitionRows: number): number {
  return Math.max(1, Math.ceil(rows / partitionRows));
}

/** One part of n of the uris, by hash (part k of n). */
export interface UriPart {
  k: number;
  n: number;
}

/** The condition keeping part `part` of the uris in `col`; our own integers, spliced as UBIGINT literals to match hash()'s type. */
function uriPartSql(col: string, part: UriPart): string {
  return hashPartSql(`hash(${col})`, part);
}

/** The condition keeping part `part` of the rows by a UBIGINT hash expression (e.g. an export candidate's stored `h`); our own integers, spliced as UBIGINT literals. */
export function hashPartSql(hashExpr: string, part: UriPart): string {
  if (!Number.isSafeInteger(part.k) || !Number.isSafeInteger(part.n) || part.k < 0 || part.k >= part.n) throw new Error(`bad partition ${part.k}/${part.n}`);
  return `${hashExpr} % ${part.n}::UBIGINT = ${part.k}::UBIGINT`;
}

/** `files` with hash(name), the file identity the row keys carry (`fh`). */
export function filesByHashSql(files: readonly string[]): BuiltQuery {
  return { sql: 'SELECT hash(f), f FROM unnest($1::VARCHAR[]) t(f)', values: [listValue([...files])] };
}

/** The number of posts rows in `files`, answered from their footers (no data read). */
export function postsRowCountSql(files: readonly string[]): BuiltQuery {
  const b = new Binder();
  return { sql: `SELECT count(*) FROM ${tableSql(b, TABLES.posts, files)}`, values: b.values };
}

/**
 * counts: `bucket_us`, `n` and, with `feature`, `scored` (posts with that score) and `score_sum` per UTC
 * hour or day. Buckets are integer arithmetic on epoch µs, so no time-zone extension is involved. With
 * `uriPart`, only that part of the uris (and their deletes): every uri is in exactly one part, so the
 * parts' buckets add up to the whole (sums, not means, for that reason).
 */
export function countsSql(sources: Sources, f: QueryFilters, granularity: 'hour' | 'day', feature?: string, uriPart?: UriPart): BuiltQuery {
  const b = new Binder();
  const { ctes, hasFeatures } = liveKeysCtes(b, sources, f, uriPart);
  // Our own constant, spliced as a BIGINT literal: a bound JS bigint arrives as HUGEINT, whose division
  // measured ~20x slower than BIGINT's (2.9 s vs 0.16 s over 2.3M rows).
  const w = `${granularity === 'hour' ? 3_600_000_000 : 86_400_000_000}::BIGINT`;
  let select = `(epoch_us(m.sort_at) // ${w}) * ${w} AS bucket_us, count(*) AS n`;
  let from = 'live m';
  if (feature !== undefined) {
    if (!FEATURE_COLUMNS.some((c) => c.name === feature)) throw new Error(`unchecked feature ${feature}`);
    const col = sqlIdent('f_' + feature);
    if (hasFeatures) {
      select += `, count(m.${col}) AS scored, sum(m.${col}) AS score_sum`;
    } else {
      // Every part reads all the scores: restricting them to the part by hash measured no faster and
      // higher in memory (1.8 vs 1.4 GB peak over a month).
      ctes.push(`mfeat AS (${featuresCte(b, sources)})`);
      from = 'live m LEFT JOIN mfeat mf ON mf.uri = m.uri';
      select += `, count(mf.${col}) AS scored, sum(mf.${col}) AS score_sum`;
    }
  }
  return { sql: `WITH ${ctes.join(',\n')}\nSELECT ${select} FROM ${from} GROUP BY ALL ORDER BY bucket_us`, values: b.values };
}
