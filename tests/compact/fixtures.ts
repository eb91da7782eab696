/**
 * Test data for compaction: batch files written with DuckDB COPY from the table definitions (the same
 * schema the flush writes), posts and deletes rows, and a compact context over the test env.
 */
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../../shared/duckdb.js';
import type { CompactContext } from '../../shared/compact/compact.js';
import { createLogger } from '../../shared/log.js';
import { batchFileName, hourOfMs, partitionDir, HOUR_MS } from '../../shared/parquet/layout.js';
import { redisKeys } from '../../shared/redis.js';
import { TABLES, createTableSql, type TableName } from '../../shared/tables/index.js';
import type { TestEnv } from '../helpers/env.js';

export type Row = Record<string, string | number | boolean | null | string[]>;

/** Start (ms) of the hour `hoursAgo` hours before now. */
export function hourStart(hoursAgo: number, now = Date.now()): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS - hoursAgo * HOUR_MS;
}

export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

const TID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';

/** The TID (record key) for a creation time in µs and a clock id, as atproto encodes it. */
export function tid(us: bigint, clockId = 0): string {
  let v = (us << 10n) | BigInt(clockId & 1023);
  let out = '';
  for (let i = 0; i < 13; i++) {
    out = TID_ALPHABET[Number(v & 31n)]! + out;
    v >>= 5n;
  }
  return out;
}

/** A post row `n` by one of three authors, seen at `atMs`; its record key is the TID of that time. */
export function post(n: number, atMs: number, extra: Row = {}): Row {
  const did = `did:plc:author${n % 3}`;
  const rkey = tid(BigInt(atMs) * 1000n, n);
  const ts = isoAt(atMs);
  return {
    uri: `at://${did}/app.bsky.feed.post/${rkey}`,
    cid: `bafy${n}`,
    author_did: did,
    rkey,
    rev: tid(BigInt(atMs) * 1000n, n),
    operation: 'create',
    text: `post number ${n}`,
    created_at: ts,
    indexed_at: ts,
    sort_at: ts,
    langs: ['en'],
    ...extra,
  };
}

/** The delete of a row with `uri`, seen at `atMs` and committed then (its rev is the TID of that time). */
export function deleteOf(uri: string, atMs: number): Row {
  const [, , did, collection, rkey] = uri.split('/');
  return { uri, collection: collection!, author_did: did!, rkey: rkey!, rev: tid(BigInt(atMs) * 1000n, 1023), indexed_at: isoAt(atMs) };
}

function literal(v: Row[string], type: string): string {
  if (v === null) return 'NULL';
  if (Array.isArray(v)) return `[${v.map((x) => sqlString(x)).join(', ')}]::VARCHAR[]`;
  if (typeof v === 'string') return `CAST(${sqlString(v)} AS ${type})`;
  return `CAST(${String(v)} AS ${type})`;
}

let batchSeq = 0;
/** A batch name the layout accepts, unique in this process. */
export function nextBatch(): string {
  batchSeq++;
  const ms = String(1_700_000_000_000 + batchSeq * 1000).padStart(13, '0');
  return `${ms}-0_${ms}-9`;
}

/** Writes `rows` as the batch file `<table>-<batch>.parquet` of the hour starting at `hourMs`; returns its path. */
export async function writeBatch(conn: DuckDBConnection, parquetDir: string, table: TableName, hourMs: number, rows: Row[], batch = nextBatch()): Promise<string> {
  const def = TABLES[table];
  const tmpName = `t_${table}_${batchSeq}_${Math.floor(Math.random() * 1e9)}`;
  await conn.run(createTableSql(def, tmpName, { temp: true }));
  for (const r of rows) {
    // Fields the table does not have (yet, or any more) are left out, so fixtures survive schema edits.
    const cols = Object.keys(r).filter((c) => def.columns.some((d) => d.name === c));
    const types = cols.map((c) => def.columns.find((d) => d.name === c)?.type ?? 'VARCHAR');
    await conn.run(
      `INSERT INTO ${sqlIdent(tmpName)} (${cols.map(sqlIdent).join(', ')}) VALUES (${cols.map((c, i) => literal(r[c]!, types[i]!)).join(', ')})`,
    );
  }
  const dir = partitionDir(parquetDir, hourOfMs(hourMs));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, batchFileName(table, batch));
  // Like the flush: written under a temporary name, then renamed into place.
  await conn.run(`COPY ${sqlIdent(tmpName)} TO ${sqlString(`${file}.tmp`)} (FORMAT parquet, COMPRESSION zstd)`);
  await rename(`${file}.tmp`, file);
  await conn.run(`DROP TABLE ${sqlIdent(tmpName)}`);
  return file;
}

/** A compact context over the test env with its own DuckDB (closed at teardown). */
export async function compactContext(t: { teardown(fn: () => unknown): void }, env: TestEnv): Promise<CompactContext & { conn: DuckDBConnection }> {
  const duckdb = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await duckdb.connect();
  t.teardown(() => {
    conn.closeSync();
    duckdb.closeSync();
  });
  return { cfg: env.cfg, log: createLogger('test', { level: 'warn' }), duckdb, redis: env.redis, keys: redisKeys(env.prefix), conn };
}

/** Runs a query and returns its rows as plain JS objects. */
export async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** count(*) over a list of files. */
export async function countFiles(conn: DuckDBConnection, files: string[]): Promise<number> {
  if (files.length === 0) return 0;
  const r = await rows(conn, `SELECT count(*)::BIGINT AS n FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false)`);
  return Number(r[0]!.n);
}

/**
 * Writes posts number `from`..`to`-1 (same shape as `post(n, …)`, seen `n` seconds into the hour,
 * modulo the hour) as one batch file, generated in SQL so thousands of rows cost nothing.
 */
export async function writePostsRange(conn: DuckDBConnection, parquetDir: string, hourMs: number, from: number, to: number, batch = nextBatch()): Promise<string> {
  const dir = partitionDir(parquetDir, hourOfMs(hourMs));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, batchFileName('posts', batch));
  const def = TABLES.posts;
  const exprs: Record<string, string> = {
    uri: `'at://did:plc:author' || (n % 3) || '/app.bsky.feed.post/3k' || lpad(n::VARCHAR, 11, '0')`,
    cid: `'bafy' || n`,
    author_did: `'did:plc:author' || (n % 3)`,
    rkey: `'3k' || lpad(n::VARCHAR, 11, '0')`,
    rev: `'rev' || n`,
    operation: `'create'`,
    text: `'post number ' || n`,
    created_at: 'ts',
    indexed_at: 'ts',
    sort_at: 'ts',
    langs: `['en']`,
  };
  const cols = def.columns.map((c) => `CAST(${exprs[c.name] ?? 'NULL'} AS ${c.type}) AS ${sqlIdent(c.name)}`).join(', ');
  await conn.run(
    `COPY (SELECT ${cols} FROM (SELECT n, to_timestamp(${hourMs / 1000} + (n % 3600)) AS ts FROM range(${from}, ${to}) r(n)) ORDER BY n)
     TO ${sqlString(`${file}.tmp`)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  await rename(`${file}.tmp`, file);
  return file;
}
