import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Config } from './config/index.js';

/** Opens the process's one in-memory DuckDB with the configured threads and memory limit. */
export async function openDuckDB(cfg: Pick<Config, 'duckdb'>): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:', {
    threads: String(cfg.duckdb.threads),
    memory_limit: cfg.duckdb.memoryLimit,
  });
}

/** Runs `fn` on a fresh connection and always closes it. */
export async function withConnection<T>(db: DuckDBInstance, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const conn = await db.connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
  }
}

/** Quotes a string as an SQL literal, for values DuckDB cannot bind (file paths in COPY ... TO). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes an identifier (only for identifiers from our own table definitions). */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
