import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { Config } from './config/index.js';
import { ownTempPath, TEMP_PREFIX } from './temp-sweep.js';

/** Opens the process's one in-memory DuckDB with the configured threads and memory limit. */
export async function openDuckDB(cfg: Pick<Config, 'duckdb'>): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:', {
    threads: String(cfg.duckdb.threads),
    memory_limit: cfg.duckdb.memoryLimit,
    enable_external_file_cache: String(cfg.duckdb.externalFileCache),
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

/**
 * Writes a one-column query's values (in its ORDER BY order), each followed by `newline`, to a new
 * temporary file of this process, and returns its path: DuckDB writes it (CSV with quoting and escaping
 * off, so values go out as they are), the caller streams it out and removes it. For export runs, whose
 * lines are rendered by SQL: no JS string per line, and no run held in memory. Converting an export's
 * 16,384-line slices to JS strings and joining them took about as long as the queries themselves
 * (bench:query's export, 872k CSV lines: 13–16 s against 8–9 s for the queries alone).
 */
export async function queryLinesToFile(conn: DuckDBConnection, sql: string, values: DuckDBValue[], newline: '\n' | '\r\n'): Promise<{ file: string; rows: number }> {
  const file = ownTempPath(TEMP_PREFIX.renderedLines, `${randomUUID()}.txt`);
  try {
    const result = await conn.run(
      `COPY (${sql}) TO ${sqlString(file)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f', NEW_LINE ${sqlString(newline)})`,
      values,
    );
    return { file, rows: Number(result.rowsChanged) };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}
