/**
 * The research API's query functions (search, export, counts) over the Parquet tree, independent of
 * HTTP: each takes the raw query parameters and returns what the handler sends. One DuckDB instance per
 * process; one connection per request, interrupted on timeout.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import { BadRequestError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RedisKeys } from '../redis.js';
import { queryLinesToFile } from '../duckdb.js';
import { ownTempPath, TEMP_PREFIX } from '../temp-sweep.js';
import { AdmissionGate } from './admission.js';
import { encodeCursor, type Cursor } from './cursor.js';
import { filesAfterPosts, findKeysProgressively, type PostKey } from './progressive.js';
import { csvHeader, FEATURE_NAMES } from './fields.js';
import type { ApiMetrics } from './metrics.js';
import { parseCountsParams, parseExportParams, parseSearchParams, type Filters, type ParseOptions, type SortOrder } from './params.js';
import { resolveUsername } from './resolve-user.js';
import { textRanges } from './text-ranges.js';
import { QueryScope } from './runner.js';
import { exportRuns, exportSteps, type ExportRun } from './export-sql.js';
import { countsSql, partitionsFor, filesByHashSql, filesWithStepTopUrisSql, filesWithUrisSql, keysFromTopSql, keysSql, keysTopSql, pageSql, postsRowCountSql, sortAtProbeSql, type BuiltQuery, type QueryFilters, type Sources } from './sql.js';
import { planSources } from './sources.js';
import { DAY_US, floorMicros, HOUR_US, microsToIso } from './time.js';

export interface QueryApiDeps {
  cfg: Config;
  duckdb: DuckDBInstance;
  redis: Redis;
  keys: RedisKeys;
  log: Logger;
  metrics: ApiMetrics;
  /** The function this instance serves (label of its gauges). */
  functionName?: string;
  /** Row limits up to this run as one long search page (PREFETCH_MAX_ROWS; tests lower it to reach the streamed path). */
  prefetchMaxRows?: number;
}

type RawQuery = Record<string, unknown>;

/** What a query function hands back to its handler. */
export interface ApiAnswer {
  headers: Record<string, string>;
  body: unknown;
  /** Rows in the answer; -1 for a stream (see `streamed`). */
  rows: number;
  /** For a stream: rows sent so far. */
  streamed?: () => number;
}

/** Export row limits up to this many rows run as one long search page (limit + 1 keys, so the header can say whether the limit was hit); larger or no limits stream slice by slice. */
const PREFETCH_MAX_ROWS = 100_000;
/** Bytes per chunk an export run's file is sent in. */
const STREAM_CHUNK_BYTES = 1 << 20;
/**
 * NDJSON runs hold this share of EXPORT_RUN_ROWS: its lines repeat the field names (755 bytes a post on
 * bench:query's day against 490 for CSV), so a run of about the same bytes has fewer rows. Measured
 * before DuckDB's file cache was turned off for the export, 1M NDJSON rows in runs of 30k peaked at
 * 306-307 MB and in runs of 24k at 284-299 MB.
 */
const NDJSON_RUN_SHARE = 0.8;
/** Buckets counts fills with zeros at most (a longer series is returned sparse). */
const MAX_FILLED_BUCKETS = 100_000;

export interface CountsBucket {
  start: string;
  count: number;
  scored?: number;
  mean?: number | null;
}

/**
 * Up to this many deletes or score files, a search step or page reads them all; beyond, it first finds
 * the ones holding its uris by uri_key (filesHolding): the lookup would cost more than it saves.
 */
const KEY_LOOKUP_MIN_FILES = 8;

export function createQueryApi(deps: QueryApiDeps) {
  const { cfg } = deps;
  const gate = new AdmissionGate({
    concurrency: cfg.api.queryConcurrency,
    queueMax: cfg.api.queryQueueMax,
    queueTimeoutMs: cfg.api.queryQueueTimeoutMs,
    onChange: (running, waiting) => {
      deps.metrics.queries.set({ function: deps.functionName ?? 'api', state: 'running' }, running);
      deps.metrics.queries.set({ function: deps.functionName ?? 'api', state: 'waiting' }, waiting);
    },
  });
  const parseOpts: ParseOptions = { features: FEATURE_NAMES, pageDefault: cfg.api.pageDefault, pageMax: cfg.api.pageMax };

  /** Lists the files, enforces the scan limit, resolves the username. Returns undefined when nothing can match. */
  async function prepare(fn: string, scope: QueryScope, filters: Filters, cursor: Cursor | undefined, wholeFeatures: boolean): Promise<{ qf: QueryFilters; sources: Sources } | undefined> {
    const plan = await planSources(filters, { parquetDir: cfg.storage.parquetDir, slackMinutes: cfg.api.indexSlackMinutes, cursor, wholeFeatures });
    if (cfg.api.maxScanBytes > 0 && plan.bytes > cfg.api.maxScanBytes) {
      throw new BadRequestError(
        'query_too_large',
        `the query would read ${plan.bytes} bytes of Parquet, more than the limit of ${cfg.api.maxScanBytes}; narrow it with start and end`,
        filters.startUs === undefined ? 'start' : 'end',
      );
    }
    deps.metrics.scanBytes.inc({ function: fn }, plan.bytes);
    const qf: QueryFilters = { ...filters };
    if (filters.username !== undefined) {
      qf.authorDid = await scope.timed((conn) =>
        resolveUsername(
          { redis: deps.redis, keys: deps.keys, log: deps.log, resolverUrl: cfg.api.handleResolverUrl, cacheTtlS: cfg.api.handleCacheTtlS },
          conn,
          plan.sources.identities,
          filters.username!,
        ),
      );
    }
    if (plan.sources.posts.length === 0) return undefined;
    return { qf, sources: plan.sources };
  }

  /** The rows of query `q`, run in `scope` (timed, interruptible). */
  function queryRows(scope: QueryScope, q: BuiltQuery): Promise<DuckDBValue[][]> {
    return scope.timed(async (conn) => (await conn.runAndReadAll(q.sql, q.values)).getRows());
  }

  /** Phase 1 of search (see progressive.ts): the first `limit` keys, exactly. */
  async function findKeys(scope: QueryScope, sources: Sources, qf: QueryFilters, sort: SortOrder, limit: number, cursor?: Cursor): Promise<PostKey[]> {
    // The token index's row ranges of a text search in `posts` (undefined: read them whole).
    const rangesIn = async (posts: string[]) => (qf.text !== undefined && cfg.api.searchTextIndex ? scope.timed((conn) => textRanges(conn, posts, qf.text!)) : undefined);
    return findKeysProgressively(sources, sort, limit, async (posts, scan, upToUs) => {
      // Deletes and scores of the step's posts can only be in its hours or later ones.
      const deletes = filesAfterPosts(sources.deletes, posts);
      const postFeatures = filesAfterPosts(sources.postFeatures, posts);
      const ranges = await rangesIn(posts);
      let q: BuiltQuery;
      if (deletes.length > KEY_LOOKUP_MIN_FILES) {
        // Two statements: the step's top rows first, then their deletes from the files holding their uris.
        const top = keysTopSql({ ...sources, posts, deletes, postFeatures }, qf, sort, scan, cursor, ranges, upToUs);
        await scope.timed((conn) => conn.run(top.sql, top.values));
        const held = await filesHolding(scope, deletes, filesWithStepTopUrisSql(deletes));
        q = keysFromTopSql({ ...sources, posts, deletes: held, postFeatures }, sort, limit);
      } else {
        q = keysSql({ ...sources, posts, deletes, postFeatures }, qf, sort, scan, limit, cursor, ranges, upToUs);
      }
      const rows = await queryRows(scope, q);
      const nTop = Number(rows[0]?.[5] ?? 0);
      const keys = rows.filter((r) => r[0] !== null).map((r) => ({ uri: String(r[0]), t: r[1] as bigint, ia: r[2] as bigint, file: String(r[3]), row: r[4] as bigint }));
      return { keys, nTop };
    }, async (posts, n) => {
      const rows = await queryRows(scope, sortAtProbeSql(posts, qf, n, cursor, await rangesIn(posts)));
      return rows.length ? (rows[0]![0] as bigint) : undefined;
    });
  }

  /** Rows in posts `files`, from their footers (no data read). */
  async function countPostsRows(scope: QueryScope, files: readonly string[]): Promise<number> {
    if (files.length === 0) return 0;
    return Number((await queryRows(scope, postsRowCountSql(files)))[0]![0]);
  }

  /**
   * Of `files` (post_features or deletes), those the lookup `q` (filesWithUrisSql, filesWithStepTopUrisSql)
   * says may hold the uris, in their order (the scores' tie-break follows it).
   */
  async function filesHolding(scope: QueryScope, files: string[], q: BuiltQuery): Promise<string[]> {
    try {
      const holding = new Set((await queryRows(scope, q)).map((r) => String(r[0])));
      return files.filter((f) => holding.has(f));
    } catch (err) {
      // Every file predates uri_key (no such column to bind): all of them, as before it existed.
      if (err instanceof Error && err.message.includes('Binder Error') && err.message.includes('uri_key')) return files;
      throw err;
    }
  }

  /** Phase 2 of search: the full rows of `keys` (read by file and row number), in their order, as JSON or CSV lines. */
  async function readPage(scope: QueryScope, sources: Sources, keys: readonly PostKey[], sort: SortOrder, format: 'json' | 'csv'): Promise<string[]> {
    if (keys.length === 0) return [];
    // Scores of the page's posts are only in partitions from the oldest page post's hour on, and only in
    // the files holding their uris.
    const later = filesAfterPosts(sources.postFeatures, [...new Set(keys.map((k) => k.file))]);
    const postFeatures = later.length > KEY_LOOKUP_MIN_FILES ? await filesHolding(scope, later, filesWithUrisSql(later, keys.map((k) => k.uri))) : later;
    const q = pageSql({ ...sources, postFeatures }, keys, sort, format);
    return (await queryRows(scope, q)).map((r) => String(r[0]));
  }

  async function open(signal?: AbortSignal): Promise<QueryScope> {
    return QueryScope.open(deps.duckdb, cfg.api.queryTimeoutMs, signal, gate);
  }

  /** search: one page of posts, newest (or oldest) first, as a JSON text. */
  async function search(raw: RawQuery, signal?: AbortSignal): Promise<ApiAnswer> {
    const started = performance.now();
    const p = parseSearchParams(raw, parseOpts);
    const scope = await open(signal);
    try {
      const prepared = await prepare('search', scope, p.filters, p.cursor, p.filters.features.length > 0);
      let lines: string[] = [];
      let next: string | null = null;
      if (prepared) {
        const keys = await findKeys(scope, prepared.sources, prepared.qf, p.sort, p.limit + 1, p.cursor);
        if (keys.length > p.limit) {
          const last = keys[p.limit - 1]!;
          next = encodeCursor({ sortAtUs: last.t, uri: last.uri, sort: p.sort }, p.filters);
          keys.length = p.limit;
        }
        lines = await readPage(scope, prepared.sources, keys, p.sort, 'json');
      }
      const took = Math.round(performance.now() - started);
      const meta = JSON.stringify({ count: lines.length, next_cursor: next, took_ms: took });
      return {
        headers: { 'content-type': 'application/json; charset=utf-8', 'x-took-ms': String(took) },
        body: `{"data":[${lines.join(',')}],"meta":${meta}}`,
        rows: lines.length,
      };
    } finally {
      scope.close();
    }
  }

  /** counts: posts per UTC hour or day (zero buckets filled between the bounds), optionally with a feature's mean. */
  async function counts(raw: RawQuery, signal?: AbortSignal): Promise<ApiAnswer> {
    const started = performance.now();
    const p = parseCountsParams(raw, parseOpts);
    const scope = await open(signal);
    try {
      const prepared = await prepare('counts', scope, p.filters, undefined, p.filters.features.length > 0 || p.feature !== undefined);
      const got = new Map<bigint, { n: number; scored: number; sum: number }>();
      if (prepared) {
        // Deduplicating a month's ~70M uris in one aggregate held ~3 GB whatever DuckDB's limit; in parts
        // of at most COUNTS_PARTITION_ROWS posts by hash of the uri, each part holds its share only. With a
        // text, username or feature filter the matches are a fraction of the posts: one pass (parts would
        // each repeat the filter's scan).
        const narrowed = prepared.qf.text !== undefined || prepared.qf.authorDid !== undefined || prepared.qf.features.length > 0;
        const parts = narrowed ? 1 : partitionsFor(await countPostsRows(scope, prepared.sources.posts), cfg.api.countsPartitionRows);
        for (let k = 0; k < parts; k++) {
          const q = countsSql(prepared.sources, prepared.qf, p.granularity, p.feature, parts > 1 ? { k, n: parts } : undefined);
          const rows = await queryRows(scope, q);
          for (const r of rows) {
            const g = got.get(r[0] as bigint) ?? { n: 0, scored: 0, sum: 0 };
            g.n += Number(r[1]);
            g.scored += Number(r[2] ?? 0);
            g.sum += Number(r[3] ?? 0);
            got.set(r[0] as bigint, g);
          }
        }
      }
      const width = p.granularity === 'hour' ? HOUR_US : DAY_US;
      const keys = [...got.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const from = p.filters.startUs !== undefined ? floorMicros(p.filters.startUs, width) : keys[0];
      const to = p.filters.endUs !== undefined ? floorMicros(p.filters.endUs - 1n, width) : keys[keys.length - 1];
      let series = keys;
      if (from !== undefined && to !== undefined && (to - from) / width < BigInt(MAX_FILLED_BUCKETS)) {
        series = [];
        for (let t = from; t <= to; t += width) series.push(t);
      }
      let total = 0;
      const data: CountsBucket[] = series.map((t) => {
        const g = got.get(t);
        const bucket: CountsBucket = { start: microsToIso(t), count: g?.n ?? 0 };
        if (p.feature !== undefined) {
          bucket.scored = g?.scored ?? 0;
          bucket.mean = g && g.scored > 0 ? g.sum / g.scored : null;
        }
        total += bucket.count;
        return bucket;
      });
      const took = Math.round(performance.now() - started);
      const meta: Record<string, unknown> = { total, granularity: p.granularity, took_ms: took };
      if (p.feature !== undefined) meta.feature = p.feature;
      return { headers: { 'x-took-ms': String(took) }, body: { data, meta }, rows: data.length };
    } finally {
      scope.close();
    }
  }

  /**
   * export: every matching post, streamed as CSV or NDJSON. With ROW_LIMIT_ENABLED the export stops at
   * ROW_LIMIT rows and says so in `X-Row-Limit` / `X-Row-Limit-Reached`.
   */
  async function exportPosts(raw: RawQuery, signal?: AbortSignal): Promise<ApiAnswer & { body: AsyncIterable<string | Buffer> }> {
    const p = parseExportParams(raw, parseOpts);
    const limit = cfg.api.rowLimitEnabled ? cfg.api.rowLimit : undefined;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const headers: Record<string, string> =
      p.format === 'csv'
        ? { 'content-type': 'text/csv; charset=utf-8; header=present', 'content-disposition': `attachment; filename="posts-${stamp}.csv"` }
        : { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-disposition': `attachment; filename="posts-${stamp}.ndjson"` };
    if (limit !== undefined) headers['x-row-limit'] = String(limit);
    const head = p.format === 'csv' ? csvHeader() : '';
    const eol = p.format === 'csv' ? '\r\n' : '\n';

    const scope = await open(signal);
    let handedOver = false;
    try {
      const prepared = await prepare('export', scope, p.filters, undefined, p.filters.features.length > 0);
      if (!prepared) {
        if (limit !== undefined) headers['x-row-limit-reached'] = 'false';
        return { headers, body: once(head), rows: 0 };
      }
      if (limit !== undefined && limit <= (deps.prefetchMaxRows ?? PREFETCH_MAX_ROWS)) {
        // A bounded export is a long search page: the first limit + 1 keys found progressively (newest
        // hours first, stopping as soon as the answer is exact), then only those rows read in full.
        // The extra key decides X-Row-Limit-Reached without reading on.
        const keys = await findKeys(scope, prepared.sources, prepared.qf, p.sort, limit + 1);
        const reached = keys.length > limit;
        if (reached) keys.length = limit;
        const lines = await readPage(scope, prepared.sources, keys, p.sort, p.format === 'csv' ? 'csv' : 'json');
        headers['x-row-limit-reached'] = String(reached);
        return { headers, body: fromLines(head, lines, eol), rows: lines.length, streamed: () => lines.length };
      }

      // Without a small limit: streamed in runs of minutes of sort_at, each rendered by one statement
      // (export-sql.ts), after the keys are prepared in parts. Its temporary files go when the export
      // ends, however it ends.
      const id = randomUUID();
      const steps = exportSteps(prepared.sources, prepared.qf, p.sort, (name) => ownTempPath(TEMP_PREFIX.exportCandidates, `${id}-${name}.parquet`));
      const removeFiles = () => Promise.all(steps.tempFiles.map((f) => rm(f, { force: true })));
      const run = (q: BuiltQuery) => scope.timed((conn) => conn.run(q.sql, q.values));
      let runs: ExportRun[];
      let fileOfHash: Map<bigint, string>;
      const prepStarted = performance.now();
      try {
        await run(steps.candidates());
        const minutes = (await queryRows(scope, { sql: steps.minutes, values: [] })).map(([m, fh, n]) => ({ m: Number(m), fh: fh as bigint, n: Number(n) }));
        const runRows = p.format === 'ndjson' ? Math.max(1, Math.floor(cfg.api.exportRunRows * NDJSON_RUN_SHARE)) : cfg.api.exportRunRows;
        runs = exportRuns(minutes, p.sort, runRows);
        const candidates = runs.reduce((n, r) => n + r.rows, 0);
        await run(steps.handles());
        const parts = partitionsFor(candidates, cfg.api.exportPartitionRows);
        for (let k = 0; k < parts; k++) {
          for (const q of steps.uriTables(k, parts)) await run(q);
          await run(steps.keys(k, parts));
        }
        await run({ sql: steps.dropTables, values: [] });
        await rm(steps.candidatesFile, { force: true });
        const merge = steps.mergeKeys();
        if (merge) {
          await run(merge.query);
          await Promise.all(merge.replaced.map((f) => rm(f, { force: true })));
        }
        fileOfHash = new Map((await queryRows(scope, filesByHashSql(prepared.sources.posts))).map((r) => [r[0] as bigint, String(r[1])]));
        // With a limit above PREFETCH_MAX_ROWS, whether it cuts is known up front only when it cannot.
        if (limit !== undefined && candidates <= limit) headers['x-row-limit-reached'] = 'false';
        deps.log.debug({ candidates, parts, runs: runs.length, prepared_ms: Math.round(performance.now() - prepStarted) }, 'export keys prepared');
      } catch (err) {
        await removeFiles();
        throw err;
      }

      // One run's lines, in a temporary file.
      const renderRun = async (r: ExportRun, max: number | undefined): Promise<{ file: string; rows: number }> => {
        const q = steps.runLines(r, r.fileHashes.map((fh) => fileOfHash.get(fh)!), p.format, max);
        return scope.timed((conn) => queryLinesToFile(conn, q.sql, q.values, eol));
      };

      handedOver = true;
      const counter = { rows: 0 };
      const body = (async function* stream(): AsyncGenerator<string | Buffer> {
        // One run ahead: DuckDB renders the next run while this one is sent.
        let next: Promise<{ file: string; rows: number }> | undefined;
        let sending: string | undefined;
        try {
          if (head) yield head;
          let i = 0;
          next = runs.length ? renderRun(runs[0]!, limit) : undefined;
          while (next) {
            const part = await next;
            next = undefined;
            sending = part.file;
            counter.rows += part.rows;
            const left = limit === undefined ? undefined : limit - counter.rows;
            if (++i < runs.length && (left === undefined || left > 0)) {
              next = renderRun(runs[i]!, left);
              next.catch(() => undefined); // awaited on the next turn (or in finally); no unhandled rejection meanwhile
            }
            for await (const chunk of createReadStream(part.file, { highWaterMark: STREAM_CHUNK_BYTES })) yield chunk as Buffer;
            await rm(part.file, { force: true });
            sending = undefined;
          }
        } finally {
          deps.metrics.rows.inc({ function: 'export' }, counter.rows);
          if (next) {
            // The client left with a run in flight: stop it before closing its connection.
            scope.conn.interrupt();
            const left = await next.catch(() => undefined);
            if (left) await rm(left.file, { force: true });
          }
          if (sending) await rm(sending, { force: true });
          await removeFiles();
          scope.close();
        }
      })();
      return { headers, body, rows: -1, streamed: () => counter.rows };
    } finally {
      if (!handedOver) scope.close();
    }
  }

  return { search, counts, exportPosts, gate };
}

export type QueryApi = ReturnType<typeof createQueryApi>;

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/** Yields buffered lines in pieces of ~1000, so a large buffered export still flows with back-pressure. */
async function* fromLines(head: string, lines: string[], eol: string): AsyncGenerator<string> {
  yield head;
  for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000).join(eol) + eol;
}
