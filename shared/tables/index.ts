/**
 * Every table of the Parquet tree, defined once: columns (DuckDB type, description), the SQL projection
 * from raw events, dedupe and sort keys. The flush, compaction, the API's field lists, the OpenAPI
 * document and the README schema all read these definitions.
 */
import { sqlIdent } from '../duckdb.js';
import { blocks, follows, likes, reposts } from './graph.js';
import { accounts, deletes, identities, profiles, records } from './other.js';
import { postFeatures } from './post-features.js';
import { posts } from './posts.js';
import { TABLE_NAMES, type ColumnDef, type TableDef, type TableName } from './types.js';

export { COLLECTIONS, CREATED_AT_RANGE, EVENT_COLUMNS } from './events.js';
export { uriKeyColumn, uriKeySql } from './uri-key.js';
export { TABLE_NAMES, type ColumnDef, type ColumnType, type FeatureRange, type TableDef, type TableName } from './types.js';

/** All tables by name. */
export const TABLES: Readonly<Record<TableName, TableDef>> = {
  posts,
  likes,
  reposts,
  follows,
  blocks,
  profiles,
  records,
  deletes,
  identities,
  accounts,
  post_features: postFeatures,
};

/** Tables the flush writes from the stream, in TABLE_NAMES order. */
export const FIREHOSE_TABLES: readonly TableDef[] = TABLE_NAMES.map((n) => TABLES[n]).filter((t) => t.source === 'firehose');

export function isTableName(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}

/** The definition of `name`; throws on an unknown name (a programming error, not user input). */
export function getTable(name: TableName): TableDef {
  const t = TABLES[name];
  if (!t) throw new Error(`unknown table ${String(name)}`);
  return t;
}

/** The column definition, or undefined when the table has no such column. */
export function getColumn(table: TableName, column: string): ColumnDef | undefined {
  return TABLES[table].columns.find((c) => c.name === column);
}

export function columnNames(table: TableName): string[] {
  return TABLES[table].columns.map((c) => c.name);
}

/** The post_features score columns (range [0, 1]): the API's feature_filters and enrich validation use them. */
export const FEATURE_COLUMNS: readonly ColumnDef[] = postFeatures.columns.filter((c) => c.feature !== undefined);

/**
 * `SELECT <columns> FROM <from> WHERE <table filter>`: the table's rows from an `events` relation
 * (EVENT_COLUMNS). `extra` adds expressions after the table's columns (e.g. the partition hour).
 */
export function projectionSql(table: TableDef, from = 'events', extra: string[] = []): string {
  if (table.source !== 'firehose' || !table.where) throw new Error(`table ${table.name} is not projected from events`);
  // Every `record->>'<path>'` of the table's columns is read from one multi-path json_extract_string
  // (the same function as ->>, so the same values), which parses the record once per row instead of
  // once per path occurrence.
  const paths: string[] = [];
  const slot = (path: string) => {
    let i = paths.indexOf(path);
    if (i < 0) i = paths.push(path) - 1;
    return `${RECORD_FIELDS}[${i + 1}]`;
  };
  const cols = table.columns.map((c) => {
    if (!c.sql) throw new Error(`column ${table.name}.${c.name} has no projection`);
    const sql = c.sql.replace(RECORD_PATH, (_m, path: string) => slot(path));
    return `CAST(${sql} AS ${c.type}) AS ${sqlIdent(c.name)}`;
  });
  if (paths.length === 0) return `SELECT ${[...cols, ...extra].join(', ')} FROM ${from} WHERE ${table.where}`;
  const list = paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ');
  return (
    `SELECT ${[...cols, ...extra].join(', ')} FROM ` +
    `(SELECT *, json_extract_string(record, [${list}]) AS ${RECORD_FIELDS} FROM ${from} WHERE ${table.where})`
  );
}

/** `record->>'<path>'` in a column's SQL (paths never hold a single quote). */
const RECORD_PATH = /\brecord->>'([^']*)'/g;
const RECORD_FIELDS = '__record_fields';

/** `CREATE TABLE name (col TYPE, …)`: an empty table with the table's exact schema. */
export function createTableSql(table: TableDef, name: string = table.name, opts: { temp?: boolean } = {}): string {
  const cols = table.columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ');
  return `CREATE ${opts.temp ? 'TEMP ' : ''}TABLE ${sqlIdent(name)} (${cols})`;
}

/**
 * The select list of a row as written to a file, from row `alias`: every column of the table in order,
 * cast to its type; a derived column computed (never read, so the source may lack it).
 */
export function writtenColumnsSql(table: TableDef, alias: string): string {
  return table.columns
    .map((c) => `CAST(${c.derived ? c.derived(alias) : `${alias}.${sqlIdent(c.name)}`} AS ${c.type}) AS ${sqlIdent(c.name)}`)
    .join(', ');
}

/** `SELECT <written columns> FROM <from>`: the relation's rows as written to a file (see writtenColumnsSql). */
export function withDerivedSql(table: TableDef, from: string): string {
  return `SELECT ${writtenColumnsSql(table, '__row')} FROM ${from} __row`;
}

/** `ORDER BY` list of the table's sort key (quoted). */
export function sortKeySql(table: TableDef): string {
  return table.sortKey.map(sqlIdent).join(', ');
}
