/**
 * Runs one request's DuckDB work on its own connection with a time budget: when QUERY_TIMEOUT_MS passes
 * (or the client goes away) the connection is interrupted (`connection.interrupt()`), DuckDB stops the
 * query, and the caller gets a 503 `query_timeout` instead of a query that starves the others.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import os from 'node:os';
import path from 'node:path';
import { sqlString } from '../duckdb.js';
import { AppError, OverloadError } from '../errors.js';
import { sweepDeadTemp, TEMP_PREFIX } from '../temp-sweep.js';
import type { AdmissionGate } from './admission.js';

const configured = new WeakSet<DuckDBInstance>();
let sweptOnce: Promise<unknown> | undefined;

/** A connection plus the interrupt machinery; `close()` always, in a finally. */
export class QueryScope {
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  private aborted = false;
  private readonly onAbort = () => {
    this.aborted = true;
    this.conn.interrupt();
  };

  private constructor(
    readonly conn: DuckDBConnection,
    private readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
    private readonly release: () => void = () => undefined,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Opens a connection once `gate` (when given) admits the request; close() frees the slot. */
  static async open(db: DuckDBInstance, timeoutMs: number, signal?: AbortSignal, gate?: AdmissionGate): Promise<QueryScope> {
    const release = gate ? await gate.acquire(signal) : () => undefined;
    try {
      // Once per process, before its first query: spill folders and export files of dead processes (an
      // OOM-killed export leaves hundreds of MB), and this pid's own from a previous life of the container.
      sweptOnce ??= sweepDeadTemp([TEMP_PREFIX.duckdbSpill, TEMP_PREFIX.exportCandidates, TEMP_PREFIX.renderedLines], { includeOwn: true });
      await sweptOnce;
      const conn = await db.connect();
      if (!configured.has(db)) {
        // Every file the catalog returns is immutable once in place: keep Parquet footers in memory
        // instead of re-reading them on every query (a month is thousands of files).
        await conn.run('SET GLOBAL parquet_metadata_cache = true');
        // Every API query orders its result explicitly; without this DuckDB also keeps insertion order,
        // which stops large intermediate results from spilling.
        await conn.run('SET GLOBAL preserve_insertion_order = false');
        // Large sorts (an export without row limit) spill here instead of growing past DUCKDB_MEMORY_LIMIT;
        // the default (.tmp in the working directory) is read-only in a function's container.
        await conn.run(`SET GLOBAL temp_directory = ${sqlString(path.join(os.tmpdir(), `${TEMP_PREFIX.duckdbSpill}${process.pid}`))}`);
        configured.add(db);
      }
      return new QueryScope(conn, timeoutMs, signal, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Runs `fn` with the budget armed; an interrupt becomes a 503 query_timeout (or a client_closed error). */
  async timed<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.signal?.aborted) throw new AppError('client_closed', 'the client closed the connection', 499);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.conn.interrupt();
    }, this.timeoutMs);
    try {
      return await fn(this.conn);
    } catch (err) {
      throw this.classify(err);
    } finally {
      clearTimeout(this.timer);
    }
  }

  private classify(err: unknown): unknown {
    if (this.timedOut) {
      return new OverloadError('query_timeout', `the query ran longer than ${this.timeoutMs} ms and was stopped; narrow the filters (a shorter date range, a username, rarer words)`, 503, err);
    }
    if (this.aborted) return new AppError('client_closed', 'the client closed the connection', 499, { cause: err });
    if (isOutOfMemory(err)) {
      // Not the client's fault and not a bug: this request needed more than the function's DuckDB memory
      // (DUCKDB_MEMORY_LIMIT, shared by the queries running at once). A 503 says "retry or narrow it".
      return new OverloadError('out_of_memory', 'the query needed more memory than this function has; narrow the filters (a shorter date range, a username, rarer words) or retry later', 503, err);
    }
    return err;
  }

  close(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.conn.closeSync();
    this.release();
  }
}

/** DuckDB's out-of-memory error (its message names the class; the node binding throws a plain Error). */
function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('Out of Memory Error');
}
