/**
 * Converts one batch of raw Jetstream lines with DuckDB, in bulk: the lines go to a temporary file that
 * DuckDB reads in one scan, each line is parsed once (json_transform) and checked in SQL, bad rows
 * get a quarantine reason, replays inside the batch are dropped; each table's projection
 * (shared/tables) then runs inside the COPY that writes one hour of it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { isUtf8 } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import { sqlIdent, sqlString } from '../duckdb.js';
import { FIREHOSE_TABLES, projectionSql, type TableDef, type TableName } from '../tables/index.js';
import type { QuarantinedEntry, QuarantineReason } from './quarantine.js';
import type { StreamEntry } from './stream.js';

/** The events we accept have time_us in [2020-01-01, 2100-01-01): anything else is not Jetstream's clock. */
export const TIME_US_RANGE = { min: 1_577_836_800_000_000n, max: 4_102_444_800_000_000n } as const;
/**
 * Longer lines are quarantined in JS (reason invalid_json, raw kept): DuckDB's CSV reader needs a
 * line-size bound, and its read buffer (CSV_BUFFER_BYTES) must hold the longest line. Jetstream events
 * are far smaller (a record block is at most 2 MiB on the network).
 */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;
/** DuckDB's CSV buffer: left to its default (16 × max_line_size) it would take 16 × 8 MiB per scan. */
const CSV_BUFFER_BYTES = 2 * MAX_LINE_BYTES;
const SEP = '\x1e';
const NL = Buffer.from('\n');

/** Bytes that cannot appear in compact JSON outside strings but would break the line file. */
function needsRewrite(b: Buffer): boolean {
  return b.indexOf(0x0a) >= 0 || b.indexOf(0x0d) >= 0 || b.indexOf(0x1e) >= 0 || b.indexOf(0x00) >= 0;
}

/**
 * The envelope read by json_transform (one parse per line). Strings are read as VARCHAR (a number there
 * becomes its text and then fails the checks below, e.g. a DID must start with `did:`); time_us stays
 * JSON so that a quoted number is told apart from a number.
 */
const ENVELOPE = JSON.stringify({
  did: 'VARCHAR',
  time_us: 'JSON',
  kind: 'VARCHAR',
  commit: { rev: 'VARCHAR', operation: 'VARCHAR', collection: 'VARCHAR', rkey: 'VARCHAR', cid: 'VARCHAR', record: 'JSON' },
  identity: 'JSON',
  account: 'JSON',
});
const isObject = (j: string) => `coalesce(starts_with(${j}::VARCHAR, '{'), false)`;

export interface StagedBatch {
  /** Entries that cannot be converted, with their reason (JS checks and SQL classification). */
  quarantined: QuarantinedEntry[];
  /** Valid entries dropped because an identical event came earlier in the batch. */
  duplicates: number;
  /** Rows per table and partition hour (hours since the epoch). */
  outputs: TableOutput[];
  /** Milliseconds spent per step (for the batch log line). */
  ms: { parse: number; dedupe: number; count: number };
}

export interface TableOutput {
  table: TableName;
  hourIndex: number;
  rows: number;
}

/**
 * The batch's input file for DuckDB: one `ord SEP id SEP line` row per entry, appended chunk by chunk
 * while the entries are read from Redis, so a large batch is never held in memory by JS (only its IDs
 * are). Entries that cannot go to DuckDB (no `e` field, not UTF-8, not JSON) are rejected here.
 */
export class LineFile {
  /** Stream IDs by ord (every entry, rejected ones included). */
  readonly ids: string[] = [];
  readonly rejected: QuarantinedEntry[] = [];
  private parts: Buffer[] = [];
  private size = 0;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(file: string): Promise<LineFile> {
    return new LineFile(file, await open(file, 'w'));
  }

  /** Appends entries (in stream order). */
  async add(entries: readonly StreamEntry[]): Promise<void> {
    for (const { id, raw } of entries) {
      const ord = this.ids.length;
      this.ids.push(id);
      const line = this.check(id, raw);
      if (!line) continue;
      this.parts.push(Buffer.from(`${ord}${SEP}${id}${SEP}`, 'latin1'), line, NL);
      this.size += line.length;
      if (this.size > 4_000_000) await this.flush();
    }
    await this.flush();
  }

  /** The bytes to give DuckDB, or undefined when the entry is rejected. */
  private check(id: string, raw: Buffer | undefined): Buffer | undefined {
    if (raw === undefined) {
      this.rejected.push({ stream_id: id, reason: 'missing_field_e', raw: null });
      return undefined;
    }
    if (raw.length > MAX_LINE_BYTES) {
      this.rejected.push({ stream_id: id, reason: 'invalid_json', detail: `line longer than ${MAX_LINE_BYTES} bytes`, raw: raw.toString('utf8') });
      return undefined;
    }
    if (!isUtf8(raw)) {
      this.rejected.push({ stream_id: id, reason: 'invalid_utf8', raw: raw.toString('utf8'), raw_base64: raw.toString('base64') });
      return undefined;
    }
    if (!needsRewrite(raw)) return raw;
    // Line breaks or our separator can only be JSON whitespace or invalid text: re-serialise compactly.
    try {
      return Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    } catch (err) {
      this.rejected.push({ stream_id: id, reason: 'invalid_json', detail: (err as Error).message, raw: raw.toString('utf8') });
      return undefined;
    }
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    await this.fh.write(chunk);
  }

  private closed = false;

  /** Flushes and closes the file (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    await this.fh.close();
  }
}

/** The SQL that loads the line file and classifies every row (reason NULL = valid). */
export function stageSql(file: string): string {
  const c = (f: string) => `s."commit".${f}`;
  const timeUs = `TRY_CAST(s.time_us AS BIGINT)`;
  return `
CREATE OR REPLACE TEMP TABLE staged AS
WITH src AS (
  SELECT ord, id, line FROM read_csv(${sqlString(file)},
    columns = {'ord': 'INTEGER', 'id': 'VARCHAR', 'line': 'VARCHAR'},
    delim = '${SEP}', quote = '', escape = '', header = false, auto_detect = false,
    max_line_size = ${MAX_LINE_BYTES + 64}, buffer_size = ${CSV_BUFFER_BYTES + 128})
), parsed AS (
  -- One parse per line: try() gives NULL for what json_transform cannot read (invalid JSON, a JSON
  -- null); only those few rows are looked at again (json_valid) to tell the reason apart.
  SELECT ord, id, line, try(json_transform(line, ${sqlString(ENVELOPE)})) AS s
  FROM src
), typed AS (
  SELECT ord, id, line, s,
    s.did AS did,
    json_type(s.time_us) AS time_type,
    ${timeUs} AS time_us,
    s.kind AS kind,
    ${c('operation')} AS operation,
    ${c('collection')} AS collection,
    ${c('rkey')} AS rkey,
    ${c('rev')} AS rev,
    ${c('cid')} AS cid,
    ${c('record')} AS record,
    s."identity" AS "identity",
    s."account" AS "account"
  FROM parsed
), classified AS (
  SELECT *, CASE
    WHEN s IS NULL AND NOT coalesce(json_valid(line), false) THEN 'invalid_json'
    WHEN NOT starts_with(ltrim(line, ' ' || chr(9)), '{') THEN 'not_an_object'
    WHEN s IS NULL THEN 'invalid_json'
    WHEN did IS NULL OR NOT starts_with(did, 'did:') THEN 'bad_did'
    WHEN time_type IS DISTINCT FROM 'UBIGINT' AND time_type IS DISTINCT FROM 'BIGINT' OR time_us IS NULL THEN 'bad_time_us'
    WHEN time_us < ${TIME_US_RANGE.min} OR time_us >= ${TIME_US_RANGE.max} THEN 'time_us_out_of_range'
    WHEN kind IS NULL OR kind NOT IN ('commit', 'identity', 'account') THEN 'unknown_kind'
    WHEN kind = 'commit' AND ${c('operation')} IS NULL AND ${c('collection')} IS NULL AND ${c('rkey')} IS NULL THEN 'bad_commit'
    WHEN kind = 'commit' AND (operation IS NULL OR operation NOT IN ('create', 'update', 'delete')) THEN 'bad_operation'
    WHEN kind = 'commit' AND (collection IS NULL OR collection = '') THEN 'bad_collection'
    WHEN kind = 'commit' AND (rkey IS NULL OR rkey = '') THEN 'bad_rkey'
    WHEN kind = 'commit' AND rev IS NULL THEN 'bad_rev'
    WHEN kind = 'commit' AND operation <> 'delete' AND NOT ${isObject('record')} THEN 'bad_record'
    WHEN kind = 'identity' AND NOT ${isObject('"identity"')} THEN 'bad_identity'
    WHEN kind = 'account' AND NOT ${isObject('"account"')} THEN 'bad_account'
  END AS reason
  FROM typed
)
SELECT ord, id AS stream_id, did, time_us, kind, operation, collection, rkey, rev, cid,
  CASE WHEN kind = 'commit' THEN record END AS record,
  CASE WHEN kind = 'identity' THEN "identity" END AS "identity",
  CASE WHEN kind = 'account' THEN "account" END AS "account",
  CASE WHEN reason IS NULL THEN timezone('UTC', make_timestamp(time_us)) END AS indexed_at,
  reason
FROM classified`;
}

// Replays inside the batch: the same event (commit identity, or identity/account event at the same
// time_us) seen again. Computed on the key columns only (a window over whole rows would carry the
// records through the sort).
const DUPS_SQL = `CREATE OR REPLACE TEMP TABLE dups AS
  SELECT ord FROM staged WHERE reason IS NULL
  QUALIFY row_number() OVER (
    PARTITION BY did, kind, collection, rkey, rev, operation, CASE WHEN kind <> 'commit' THEN time_us END
    ORDER BY ord) > 1`;

function eventsViewSql(withDups: boolean): string {
  return `CREATE OR REPLACE TEMP VIEW events AS
  SELECT ord, stream_id, did, time_us, kind, operation, collection, rkey, rev, cid, record, "identity", "account", indexed_at
  FROM staged WHERE reason IS NULL${withDups ? ' AND ord NOT IN (SELECT ord FROM dups)' : ''}`;
}

const HOUR_US = 3_600_000_000n;

/** The table's rows of one partition hour, as its projection over the events (minus `exclude` ords). */
function tableHourSql(table: TableDef, hourIndex: number, exclude: readonly number[] = []): string {
  const lo = BigInt(Math.trunc(hourIndex)) * HOUR_US;
  const skip = exclude.length ? ` AND ord NOT IN (${exclude.join(',')})` : '';
  return projectionSql(table, `(SELECT * FROM events WHERE time_us >= ${lo} AND time_us < ${lo + HOUR_US}${skip})`);
}

/** Finds the events whose projection fails, by bisection (only after a failed COPY). */
async function findBadOrds(conn: DuckDBConnection, table: TableDef, hourIndex: number): Promise<Map<number, string>> {
  const lo = BigInt(Math.trunc(hourIndex)) * HOUR_US;
  const reader = await conn.runAndReadAll(
    `SELECT ord FROM events WHERE time_us >= ${lo} AND time_us < ${lo + HOUR_US} AND (${table.where}) ORDER BY ord`,
  );
  const ords = reader.getRows().map((r) => Number(r[0]));
  const bad = new Map<number, string>();
  const probe = async (a: number, b: number): Promise<void> => {
    try {
      await conn.run(`CREATE OR REPLACE TEMP TABLE __probe AS ${projectionSql(table, `(SELECT * FROM events WHERE ord IN (${ords.slice(a, b).join(',')}))`)}`);
    } catch (err) {
      if (b - a === 1) {
        bad.set(ords[a]!, (err as Error).message.split('\n')[0]!.slice(0, 500));
        return;
      }
      const mid = (a + b) >> 1;
      await probe(a, mid);
      await probe(mid, b);
    }
  };
  if (ords.length) await probe(0, ords.length);
  await conn.run('DROP TABLE IF EXISTS __probe');
  return bad;
}

/** Looks up the raw text of a few stream entries again (for quarantine records). */
export type FetchRaw = (ids: string[]) => Promise<Map<string, string | null>>;

/**
 * Loads and checks the batch in `lines` (closed) on `conn` (one connection per batch; it keeps the
 * `events` the writer reads); `fetchRaw` gets back the raw text of the few entries that end in quarantine.
 */
export async function stageBatch(conn: DuckDBConnection, lines: LineFile, fetchRaw: FetchRaw): Promise<StagedBatch> {
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const d = Math.round(now - t);
    t = now;
    return d;
  };
  await conn.run(`SET TimeZone = 'UTC'`);
  const quarantined = [...lines.rejected];
  const ids = lines.ids;
  await conn.run(stageSql(lines.path));
  const msParse = lap();
  await conn.run(DUPS_SQL);
  const dupReader = await conn.runAndReadAll(`SELECT count(*) FROM dups`);
  const duplicates = Number(dupReader.getRows()[0]![0]);
  await conn.run(eventsViewSql(duplicates > 0));

  const bad = await conn.runAndReadAll(`SELECT ord, reason FROM staged WHERE reason IS NOT NULL ORDER BY ord`);
  const badRows = bad.getRows().map(([ord, reason]) => ({ id: ids[Number(ord)]!, reason: reason as QuarantineReason }));
  const badRaw = badRows.length ? await fetchRaw(badRows.map((b) => b.id)) : new Map<string, string | null>();
  for (const b of badRows) quarantined.push({ stream_id: b.id, reason: b.reason, raw: badRaw.get(b.id) ?? null });
  const msDedupe = lap();

  // Rows per table and hour, from the envelope columns only; the projections run in the COPY itself.
  const outputs: TableOutput[] = [];
  const counts = await conn.runAndReadAll(
    FIREHOSE_TABLES.map(
      (t) => `SELECT ${sqlString(t.name)} AS t, time_us // ${HOUR_US} AS h, count(*) AS n FROM events WHERE ${t.where} GROUP BY h`,
    ).join(' UNION ALL '),
  );
  for (const [t, hour, n] of counts.getRows()) {
    outputs.push({ table: t as TableName, hourIndex: Number(hour), rows: Number(n) });
  }
  // Keep the table order of the definitions (deterministic file order for the crash tests).
  const order = new Map(FIREHOSE_TABLES.map((t, i) => [t.name, i]));
  outputs.sort((a, b) => order.get(a.table)! - order.get(b.table)! || a.hourIndex - b.hourIndex);
  return { quarantined, duplicates, outputs, ms: { parse: msParse, dedupe: msDedupe, count: lap() } };
}

/**
 * ZSTD at its default level (3) with Parquet format version 2 pages and encodings (delta encodings for
 * timestamps and for strings sharing prefixes, such as AT URIs): 2–3% smaller than version 1 for the
 * same write time on generated data. Higher levels were measured too (bench/flush, 250k events): level
 * 6 gains another 1–4% for about 2× the compression time, level 9 about 5–8% for 3–4×; the flush is
 * latency-bound, so they are left to compaction.
 */
const PARQUET_OPTIONS = 'COMPRESSION zstd, PARQUET_VERSION V2';

function copySql(table: TableDef, hourIndex: number, file: string, rowGroupSize: number, exclude: readonly number[]): string {
  const order = table.sortKey.map(sqlIdent).join(', ');
  return (
    `COPY (SELECT * FROM (${tableHourSql(table, hourIndex, exclude)}) ORDER BY ${order}) ` +
    `TO ${sqlString(file)} (FORMAT parquet, ${PARQUET_OPTIONS}, ROW_GROUP_SIZE ${Math.trunc(rowGroupSize)})`
  );
}

/**
 * Writes one table's rows of one hour, sorted by its sort key, to a ZSTD Parquet file. Should a row break
 * the projection (the SQL is written not to), the culprits are found by bisection, returned for the
 * quarantine, and the file is written without them. Other failures (disk full…) are thrown.
 */
export async function copyTableHour(
  conn: DuckDBConnection,
  table: TableDef,
  hourIndex: number,
  file: string,
  rowGroupSize: number,
  ids: readonly string[],
  fetchRaw: FetchRaw,
): Promise<QuarantinedEntry[]> {
  try {
    await conn.run(copySql(table, hourIndex, file, rowGroupSize, []));
    return [];
  } catch (err) {
    const bad = await findBadOrds(conn, table, hourIndex);
    if (bad.size === 0) throw err;
    const raws = await fetchRaw([...bad.keys()].map((ord) => ids[ord]!));
    await conn.run(copySql(table, hourIndex, file, rowGroupSize, [...bad.keys()]));
    return [...bad].map(([ord, detail]) => {
      const id = ids[ord]!;
      return { stream_id: id, reason: 'projection_error' as const, detail, raw: raws.get(id) ?? null };
    });
  }
}

/** Drops the batch's temp tables (the connection is reused by the next batch). */
export async function dropStaged(conn: DuckDBConnection): Promise<void> {
  await conn.run('DROP VIEW IF EXISTS events');
  await conn.run('DROP TABLE IF EXISTS dups');
  await conn.run('DROP TABLE IF EXISTS staged');
}
