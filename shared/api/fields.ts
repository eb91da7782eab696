/**
 * The post fields the API returns, taken from the `posts` table definition (one source of truth), and
 * the SQL that renders a row as JSON (search, export ndjson) or as an RFC 4180 CSV line (export csv).
 * Rendering in DuckDB keeps the per-row work in its vectorised engine instead of JavaScript.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { sqlIdent } from '../duckdb.js';
import { FEATURE_COLUMNS, TABLES, type ColumnDef } from '../tables/index.js';

/** posts columns not returned: the raw record (large; in Parquet for direct readers) and commit internals. */
const HIDDEN = new Set(['record', 'rev', 'operation', 'rkey']);

/** Output columns, in order: posts columns, then author_handle after author_did. */
export const POST_FIELDS: readonly ColumnDef[] = (() => {
  const out: ColumnDef[] = [];
  for (const c of TABLES.posts.columns) {
    if (HIDDEN.has(c.name)) continue;
    out.push(c);
    if (c.name === 'author_did') {
      out.push({ name: 'author_handle', type: 'VARCHAR', description: 'The latest handle known for author_did (from identity events), or null.' });
    }
  }
  return out;
})();

export const FEATURE_NAMES: readonly string[] = FEATURE_COLUMNS.map((c) => c.name);

/** SQL turning a TIMESTAMPTZ into an ISO 8601 UTC string with microseconds (no time-zone extension needed). */
export function isoSql(expr: string): string {
  return `strftime(make_timestamp(epoch_us(${expr})), '%Y-%m-%dT%H:%M:%S.%fZ')`;
}

/** The expression for one output field over a row alias `r` (with author_handle and feature columns). */
function fieldSql(c: ColumnDef, r: string): string {
  const col = `${r}.${sqlIdent(c.name)}`;
  return c.type === 'TIMESTAMPTZ' ? isoSql(col) : col;
}

/** `features` object: null when the post has no scores, else every feature (null where unscored). */
function featuresStructSql(r: string): string {
  const fields = FEATURE_COLUMNS.map((c) => `${sqlIdent(c.name)} := ${r}.${sqlIdent('f_' + c.name)}`).join(', ');
  return `CASE WHEN ${r}."f_scored" THEN struct_pack(${fields}) END`;
}

/** One JSON object per row (VARCHAR). */
export function jsonLineSql(r: string): string {
  const fields = POST_FIELDS.map((c) => `${sqlIdent(c.name)} := ${fieldSql(c, r)}`);
  fields.push(`"features" := ${featuresStructSql(r)}`);
  return `to_json(struct_pack(${fields.join(', ')}))::VARCHAR`;
}

/** CSV header names: post fields, then one column per feature. */
export const CSV_COLUMNS: readonly string[] = [...POST_FIELDS.map((c) => c.name), ...FEATURE_NAMES];

function csvQuote(expr: string): string {
  // RFC 4180: a field with quotes, commas or line breaks is quoted and inner quotes doubled; quoting
  // every text field is always valid. NULL becomes "" (an empty field). concat() rather than `||`:
  // DuckDB evaluates this form several times faster.
  // replace() only where a quote occurs: most posts have none, and the scan for one is far cheaper.
  const v = `coalesce(${expr}, '')`;
  return `concat('"', CASE WHEN contains(${v}, '"') THEN replace(${v}, '"', '""') ELSE ${v} END, '"')`;
}

/** One CSV record per row, without the line break (VARCHAR). Lists are JSON arrays. */
export function csvLineSql(r: string): string {
  const cells = POST_FIELDS.map((c) => {
    const col = `${r}.${sqlIdent(c.name)}`;
    switch (c.type) {
      case 'TIMESTAMPTZ':
        return `coalesce(${isoSql(col)}, '')`;
      case 'VARCHAR[]':
        return csvQuote(`to_json(${col})::VARCHAR`);
      case 'BOOLEAN':
      case 'BIGINT':
      case 'DOUBLE':
        return `coalesce(${col}::VARCHAR, '')`;
      default:
        return csvQuote(`${col}::VARCHAR`);
    }
  });
  for (const f of FEATURE_COLUMNS) cells.push(`coalesce(${r}.${sqlIdent('f_' + f.name)}::VARCHAR, '')`);
  return `concat_ws(',', ${cells.join(', ')})`;
}

/** The header line of the CSV export (our own identifiers need no quoting). */
export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\r\n';
}

function schemaFor(c: ColumnDef): TSchema {
  const opts = { description: c.description };
  switch (c.type) {
    case 'VARCHAR':
    case 'JSON':
      return Type.Union([Type.String(), Type.Null()], opts);
    case 'VARCHAR[]':
      return Type.Union([Type.Array(Type.String()), Type.Null()], opts);
    case 'BOOLEAN':
      return Type.Union([Type.Boolean(), Type.Null()], opts);
    case 'BIGINT':
    case 'UBIGINT':
    case 'DOUBLE':
      return Type.Union([Type.Number(), Type.Null()], opts);
    case 'TIMESTAMPTZ':
      return Type.Union([Type.String({ format: 'date-time' }), Type.Null()], opts);
  }
}

/** typebox schema of one returned post (for the OpenAPI document). */
export const postSchema = Type.Object(
  {
    ...Object.fromEntries(POST_FIELDS.map((c) => [c.name, schemaFor(c)])),
    features: Type.Union(
      [Type.Object(Object.fromEntries(FEATURE_COLUMNS.map((c) => [c.name, schemaFor(c)]))), Type.Null()],
      { description: 'Enrichment scores (post_features); null when the post has none.' },
    ),
  },
  { description: 'A post.' },
);
