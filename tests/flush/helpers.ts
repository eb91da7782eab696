/** Shared pieces of the flush tests: an isolated context, stream writes and reading the Parquet tree back. */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Redis } from 'ioredis';
import { createContext, type AppContext } from '../../shared/context.js';
import { openDuckDB, sqlString } from '../../shared/duckdb.js';
import { createLogger } from '../../shared/log.js';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');

/** Raw lines of a fixture in tests/fixtures. */
export function fixtureLines(name: 'jetstream-golden-10.jsonl' | 'jetstream-real-152.jsonl'): string[] {
  return readFileSync(path.join(ROOT, 'tests/fixtures', name), 'utf8').split('\n').filter((l) => l.trim() !== '');
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface FlushEnv extends TestEnv {
  ctx: AppContext;
  duckdb: DuckDBInstance;
}

/** A test env plus an AppContext (test Redis client, own DuckDB, quiet logger). */
export async function makeFlushEnv(t: Teardown, extra: Record<string, string> = {}): Promise<FlushEnv> {
  const env = await makeTestEnv(t, { FLUSH_CONSUMER: 'test-flush', ...extra });
  const duckdb = await openDuckDB(env.cfg);
  t.teardown(() => duckdb.closeSync());
  const ctx = await createContext(env.cfg, 'test:flush', { redis: env.redis, duckdb, log: createLogger('test:flush', { level: 'silent' }) });
  return { ...env, ctx, duckdb };
}

/** XADDs each line as field `e`, as the ingest daemon does; returns the entry IDs. */
export async function xaddLines(redis: Redis, stream: string, lines: (string | null)[]): Promise<string[]> {
  const p = redis.pipeline();
  for (const l of lines) {
    if (l === null) p.xadd(stream, '*', 'x', 'no e field');
    else p.xadd(stream, '*', 'e', l);
  }
  const res = (await p.exec()) ?? [];
  return res.map(([err, id]) => {
    if (err) throw err;
    return id as string;
  });
}

/** Every Parquet file under `dir` (relative paths, sorted), temporary files included. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const all = (await readdir(dir, { recursive: true, withFileTypes: true })) as import('node:fs').Dirent[];
    return all
      .filter((d) => d.isFile())
      .map((d) => path.relative(dir, path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)))
      .sort();
  } catch {
    return [];
  }
}

/** Rows of a table read the way a researcher would: read_parquet over the tree with hive partitioning. */
export async function readTable(
  duckdb: DuckDBInstance,
  parquetDir: string,
  table: string,
  select = '*',
  order = '1',
): Promise<Record<string, unknown>[]> {
  const files = (await listFiles(parquetDir)).filter((f) => new RegExp(`(^|/)${table}(-[^/]*)?\\.parquet$`).test(f));
  if (files.length === 0) return [];
  const conn = await duckdb.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    const glob = sqlString(path.join(parquetDir, `**/${table}-*.parquet`));
    const r = await conn.runAndReadAll(`SELECT ${select} FROM read_parquet(${glob}, hive_partitioning = true) ORDER BY ${order}`);
    return r.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
  }
}

/** Pending entries of the flush group (0 when the group does not exist). */
export async function pendingCount(redis: Redis, stream: string, group: string): Promise<number> {
  try {
    const r = (await redis.xpending(stream, group)) as [number, ...unknown[]];
    return Number(r[0]);
  } catch {
    return 0;
  }
}
