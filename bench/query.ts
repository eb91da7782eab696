/**
 * `npm run bench:query [-- --json] [--events N] [--reps N] [--rebuild]`: query latency of the research API
 * on a day of generated data, beside the same queries as plain DuckDB scans of one unpartitioned Parquet
 * file of the same posts (the naive baseline), and the export rate with its memory.
 *
 * The dataset (default 8.1M events ≈ 2.3M posts with the matching likes, follows, …, the spec's day,
 * generated with the generator's text model) goes the production way: XADD to a Redis stream under a
 * private prefix → the flush library → hour-partitioned Parquet → compaction. It is kept under
 * bench-data/ and reused by later runs (--rebuild makes it again). Enrichment scores are added for a
 * fifth of the posts. With --json the last line is
 * {"posts","search_p50_ms","search_p95_ms","baseline_p95_ms","export_rows_per_s","export_rss_mb"}.
 * Other options: --no-export, --build-only, --export-memory 256MB (DuckDB memory limit of the export process),
 * --export-rows N (rows of the measured export, default 1,000,000), --only kind,kind (e.g. rare_word,feature),
 * --baseline-reps N (0: no baseline), --no-queries.
 *
 * `--month [--days 30]`: the same query mix over a month (~70M posts), made from the day dataset by
 * bench/query-month.ts (30 shifted copies of the compacted day, ~10 minutes once; kept in bench-data/);
 * the baseline is then a plain DuckDB scan over all the month's posts files, run once per query
 * (`--baseline-reps`), and there is no export run unless --export-rows N asks for one (a CSV export of
 * the month's first N posts: how memory holds up past the day's size). With --json the last
 * line is {"posts","days","search_p50_ms","search_p95_ms","baseline_p95_ms"}.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import { apiMetrics } from '../shared/api/metrics.js';
import { createQueryApi, type QueryApi } from '../shared/api/service.js';
import { compact } from '../shared/compact/compact.js';
import { loadConfig, type Config } from '../shared/config/index.js';
import { createContext, type AppContext } from '../shared/context.js';
import { sqlString } from '../shared/duckdb.js';
import { runFlush } from '../shared/flush/index.js';
import { createLogger } from '../shared/log.js';
import { listTableFiles } from '../shared/parquet/catalog.js';
import { batchFilePath, batchName, hourOfTimeUs } from '../shared/parquet/layout.js';
import { createTableSql, TABLES, withDerivedSql } from '../shared/tables/index.js';
import { parseStack } from '../local-tools/gateway/stack.js';
import { generateEvents } from '../local-tools/generator/generator.js';
import { SPEC_POST_SHARE } from '../local-tools/generator/mix.js';
import { buildMonth } from './query-month.js';

// BENCH_ROOT: set for the compiled export child, which runs from bench-data/.build (compiledBench).
const ROOT = process.env.BENCH_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const JSON_OUT = flag('--json');
const EVENTS = Number(opt('--events', '8100000'));
const REPS = Number(opt('--reps', '5'));
const MONTH = flag('--month');
const DAYS = Number(opt('--days', '30'));
const BASELINE_REPS = Number(opt('--baseline-reps', MONTH ? '1' : String(REPS)));
/** Rows of the measured export (the issue's goal is for 1M; larger ones check that memory stays flat). */
const EXPORT_ROWS = Number(opt('--export-rows', '1000000'));
const START = '2026-07-01T00:00:00.000Z';
const DIR = path.join(ROOT, 'bench-data', `query-${EVENTS}`);
const MONTH_DIR = path.join(ROOT, 'bench-data', `query-${EVENTS}-month${DAYS}`);
const say = (s: string) => (JSON_OUT ? process.stderr : process.stdout).write(s + '\n');

function benchEnv(extra: Record<string, string> = {}, dataDir = DIR): Record<string, string | undefined> {
  return { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', QUERY_TIMEOUT_MS: '120000', QUERY_MAX_SCAN_BYTES: '0', ...extra };
}

/** Generates the day, pushes it through Redis and the flush, compacts, adds scores and the naive file. */
async function build(): Promise<void> {
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  const prefix = `bench:query:${randomBytes(4).toString('hex')}:`;
  const cfg = loadConfig(benchEnv({ REDIS_PREFIX: prefix, FLUSH_BATCH_SIZE: '250000', FLUSH_CONSUMER: 'bench' }));
  const ctx = await createContext(cfg, 'bench:query', { log: createLogger('bench:query', { level: 'warn' }) });
  const t0 = performance.now();
  try {
    let n = 0;
    let pipe = ctx.redis.pipeline();
    const rate = EVENTS / 86_400; // one day
    for (const line of generateEvents({ events: EVENTS, mix: 'spec', start: START, rate })) {
      pipe.xadd(ctx.keys.stream, '*', 'e', line);
      n++;
      if (n % 2000 === 0) {
        await pipe.exec();
        pipe = ctx.redis.pipeline();
      }
      if (n % 250_000 === 0) {
        await runFlush(ctx);
        say(`  ${n} events generated and flushed (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }
    await pipe.exec();
    await runFlush(ctx);
    say(`  flushed ${n} events in ${((performance.now() - t0) / 1000).toFixed(0)} s; compacting`);
    await compact(ctx, { swapGraceMs: 0, lock: false });
    say(`  compacted (${((performance.now() - t0) / 1000).toFixed(0)} s); adding scores and the naive file`);
    await addFeaturesAndNaive(ctx);
  } finally {
    await ctx.redis.del(ctx.keys.stream, ctx.keys.flushLock, ctx.keys.compactLock).catch(() => undefined);
    await ctx.destroy();
  }
  const conn = await (await import('../shared/duckdb.js')).openDuckDB(cfg).then((db) => db.connect());
  const posts = Number((await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(naivePath())})`)).getRows()[0]![0]);
  conn.closeSync();
  await writeFile(path.join(DIR, 'ready.json'), JSON.stringify({ events: EVENTS, posts, build_s: Math.round((performance.now() - t0) / 1000) }));
}

async function finishBuild(): Promise<void> {
  const t0 = performance.now();
  const cfg = loadConfig(benchEnv({ REDIS_PREFIX: `bench:query:${randomBytes(4).toString('hex')}:` }));
  const ctx = await createContext(cfg, 'bench:query', { log: createLogger('bench:query', { level: 'warn' }) });
  try {
    for (const f of await listTableFiles(cfg.storage.parquetDir, 'post_features')) await rm(f, { force: true });
    await addFeaturesAndNaive(ctx);
    const conn = await ctx.duckdb.connect();
    const posts = Number((await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(naivePath())})`)).getRows()[0]![0]);
    conn.closeSync();
    await writeFile(path.join(DIR, 'ready.json'), JSON.stringify({ events: EVENTS, posts, build_s: Math.round((performance.now() - t0) / 1000), note: 'finished with --finish' }));
  } finally {
    await ctx.destroy();
  }
}

const naivePath = () => path.join(DIR, 'naive', 'posts.parquet');
const naiveFeaturesPath = () => path.join(DIR, 'naive', 'post_features.parquet');

async function addFeaturesAndNaive(ctx: AppContext): Promise<void> {
  const parquetDir = ctx.cfg.storage.parquetDir;
  const posts = await listTableFiles(parquetDir, 'posts');
  const conn = await ctx.duckdb.connect();
  try {
    await conn.run(`SET temp_directory = ${sqlString(path.join(DIR, 'tmp'))}`);
    const src = `read_parquet($1::VARCHAR[], union_by_name = true)`;
    const files = [listValue(posts)];
    await conn.run(createTableSql(TABLES.post_features, 'pf', { temp: true }));
    // Scored an hour after the post was seen, as an hourly classifier job would, and filed (as the
    // enrich function files an import) under the hour of the import.
    await conn.run(
      `INSERT INTO pf (uri, toxicity_score, political_score, perspective_insult, model, scored_at)
       SELECT uri, (hash(uri || 't') % 1000) / 1000.0, (hash(uri || 'p') % 1000) / 1000.0, (hash(uri || 'i') % 1000) / 1000.0, 'bench-model-1',
         date_trunc('hour', indexed_at) + INTERVAL 1 HOUR + INTERVAL 10 MINUTE
       FROM ${src} WHERE hash(uri) % 5 = 0`,
      files,
    );
    const hours = (await conn.runAndReadAll(`SELECT DISTINCT epoch_us(scored_at) FROM pf ORDER BY 1`)).getRows().map((r) => r[0] as bigint);
    for (const us of hours) {
      const file = batchFilePath(parquetDir, hourOfTimeUs(us), 'post_features', batchName('1-0', '1-1'));
      await mkdir(path.dirname(file), { recursive: true });
      // As the enrich function writes them (uri_key computed).
      await conn.run(`COPY (${withDerivedSql(TABLES.post_features, 'pf')} WHERE epoch_us(scored_at) = ${us}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
    }
    await mkdir(path.dirname(naivePath()), { recursive: true });
    // The naive baseline: the same posts (deduplicated, deleted ones removed, as the tree after compaction) in one file.
    const live = await listTableFiles(parquetDir, 'posts');
    await conn.run(`COPY (SELECT * FROM read_parquet($1::VARCHAR[], union_by_name = true)) TO ${sqlString(naivePath())} (FORMAT parquet, COMPRESSION zstd)`, [listValue(live)]);
    await conn.run(`COPY pf TO ${sqlString(naiveFeaturesPath())} (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    conn.closeSync();
  }
}

interface BenchQuery {
  kind: string;
  name: string;
  fn: 'search' | 'counts';
  params: Record<string, string>;
  /** The same question as plain SQL over the naive file (`naive`, `feats`). */
  baseline: string;
  values?: (string | number)[];
}

/** Where the baseline reads: SQL table expressions for the posts and the scores. */
interface Baseline {
  posts: string;
  features: string;
}

const dayBaseline = (): Baseline => ({ posts: `read_parquet(${sqlString(naivePath())})`, features: `read_parquet(${sqlString(naiveFeaturesPath())})` });

/** The month's baseline: every posts and scores file of the tree, read plainly (no index, no pruning). */
const monthBaseline = (parquetDir: string): Baseline => ({
  posts: `read_parquet(${sqlString(path.join(parquetDir, '*/*/*/*/posts*.parquet'))})`,
  features: `read_parquet(${sqlString(path.join(parquetDir, '*/*/*/*/post_features-*.parquet'))})`,
});

/**
 * Picks words and authors from the day's data so the mix is the same for every dataset size (the month
 * repeats the day's texts and authors).
 */
async function planQueries(conn: DuckDBConnection, b: Baseline): Promise<BenchQuery[]> {
  const sample = `read_parquet(${sqlString(naivePath())})`;
  const naive = b.posts;
  const one = async (sql: string) => (await conn.runAndReadAll(sql)).getRows()[0]!;
  const words = (
    await conn.runAndReadAll(
      `SELECT w, count(*) c FROM (SELECT unnest(string_split(lower(text), ' ')) w FROM ${sample} USING SAMPLE 50000 ROWS) WHERE length(w) >= 4 AND regexp_matches(w, '^[a-z]+$') GROUP BY w ORDER BY c DESC`,
    )
  ).getRows();
  const common = String(words[0]![0]);
  const common2 = String(words[3]![0]);
  const midRare = String(words[Math.min(words.length - 1, 400)]![0]);
  const [author] = await one(`SELECT author_did FROM ${sample} GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`);
  const [author2] = await one(`SELECT author_did FROM ${sample} GROUP BY 1 ORDER BY count(*) DESC LIMIT 1 OFFSET 50`);
  const [tag] = await one(`SELECT lower(h) FROM (SELECT unnest(hashtags) h FROM ${sample} USING SAMPLE 50000 ROWS) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`);
  const day = START.slice(0, 10);
  const base = (where: string, order = 'sort_at DESC, uri DESC') => `SELECT uri, text, sort_at FROM ${naive} WHERE ${where} ORDER BY ${order} LIMIT 50`;
  const feat = (where: string, fwhere: string) =>
    `SELECT p.uri, p.text, p.sort_at FROM ${naive} p JOIN ${b.features} f USING (uri) WHERE ${where} AND ${fwhere} ORDER BY p.sort_at DESC LIMIT 50`;
  const hourBuckets = (where: string) => `SELECT (epoch_us(sort_at) // 3600000000) AS b, count(*) FROM ${naive} WHERE ${where} GROUP BY 1 ORDER BY 1`;
  const lit = (s: string) => sqlString(s);
  return [
    { kind: 'latest', name: 'newest page, no filter', fn: 'search', params: {}, baseline: base('true') },
    { kind: 'common_word', name: `text=${common}`, fn: 'search', params: { text: common }, baseline: base(`contains(lower(text), ${lit(common)})`) },
    { kind: 'common_word', name: `text=${common2} oldest`, fn: 'search', params: { text: common2, sort: 'oldest' }, baseline: base(`contains(lower(text), ${lit(common2)})`, 'sort_at, uri') },
    { kind: 'rare_word', name: 'text=qxenolith', fn: 'search', params: { text: 'qxenolith' }, baseline: base(`contains(lower(text), 'qxenolith')`) },
    { kind: 'rare_word', name: `text=${midRare}`, fn: 'search', params: { text: midRare }, baseline: base(`contains(lower(text), ${lit(midRare)})`) },
    { kind: 'phrase', name: 'exact "purple qxaardvark symphony"', fn: 'search', params: { text: 'purple qxaardvark symphony', exact: 'true' }, baseline: base(`contains(text, 'purple qxaardvark symphony')`) },
    { kind: 'phrase', name: 'exact "el qxajolote bailarín"', fn: 'search', params: { text: 'el qxajolote bailarín', exact: 'true' }, baseline: base(`contains(text, 'el qxajolote bailarín')`) },
    { kind: 'username', name: 'username=<most active DID>', fn: 'search', params: { username: String(author) }, baseline: base(`author_did = ${lit(String(author))}`) },
    { kind: 'username', name: 'username=<DID> + text', fn: 'search', params: { username: String(author2), text: 'a' }, baseline: base(`author_did = ${lit(String(author2))} AND contains(lower(text), 'a')`) },
    { kind: 'date_range', name: '1 hour window', fn: 'search', params: { start: `${day}T12:00:00Z`, end: `${day}T13:00:00Z` }, baseline: base(`sort_at >= TIMESTAMPTZ '${day} 12:00:00+00' AND sort_at < TIMESTAMPTZ '${day} 13:00:00+00'`) },
    { kind: 'date_range', name: '6 hour window + common word', fn: 'search', params: { start: `${day}T06:00:00Z`, end: `${day}T12:00:00Z`, text: common }, baseline: base(`sort_at >= TIMESTAMPTZ '${day} 06:00:00+00' AND sort_at < TIMESTAMPTZ '${day} 12:00:00+00' AND contains(lower(text), ${lit(common)})`) },
    { kind: 'date_range', name: 'morning, oldest first', fn: 'search', params: { start: `${day}T03:00:00Z`, sort: 'oldest' }, baseline: base(`sort_at >= TIMESTAMPTZ '${day} 03:00:00+00'`, 'sort_at, uri') },
    { kind: 'feature', name: 'toxicity_score>=0.95', fn: 'search', params: { feature_filters: 'toxicity_score>=0.95' }, baseline: feat('true', 'f.toxicity_score >= 0.95') },
    { kind: 'feature', name: 'toxicity>=0.5,political<0.2 + word', fn: 'search', params: { feature_filters: 'toxicity_score>=0.5,political_score<0.2', text: common }, baseline: feat(`contains(lower(p.text), ${lit(common)})`, 'f.toxicity_score >= 0.5 AND f.political_score < 0.2') },
    { kind: 'columns', name: 'lang=ja', fn: 'search', params: { lang: 'ja' }, baseline: base(`list_contains(langs, 'ja')`) },
    { kind: 'columns', name: `hashtag=${tag} + has_media`, fn: 'search', params: { hashtag: String(tag), has_media: 'true' }, baseline: base(`list_contains(list_transform(hashtags, x -> lower(x)), ${lit(String(tag))}) AND has_media`) },
    { kind: 'columns', name: 'is_reply=true', fn: 'search', params: { is_reply: 'true' }, baseline: base('reply_parent_uri IS NOT NULL') },
    { kind: 'counts', name: 'counts per hour, everything (day or month)', fn: 'counts', params: { granularity: 'hour' }, baseline: hourBuckets('true') },
    { kind: 'counts', name: `counts per hour, text=${common}`, fn: 'counts', params: { granularity: 'hour', text: common }, baseline: hourBuckets(`contains(lower(text), ${lit(common)})`) },
    {
      kind: 'counts',
      name: 'counts per day, feature=toxicity_score',
      fn: 'counts',
      params: { granularity: 'day', feature: 'toxicity_score' },
      baseline: `SELECT epoch_us(p.sort_at) // 86400000000, count(*), count(f.toxicity_score), avg(f.toxicity_score) FROM ${naive} p LEFT JOIN ${b.features} f USING (uri) GROUP BY 1`,
    },
  ];
}

/** Nearest-rank percentile; NaN for no values (--no-queries). */
function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function runQueries(cfg: Config, api: QueryApi, conn: DuckDBConnection, b: Baseline) {
  const only = opt('--only', '');
  const queries = (await planQueries(conn, b)).filter((q) => !only || only.split(',').includes(q.kind));
  const rows: { kind: string; name: string; ours: number[]; base: number[]; hits: number }[] = [];
  for (const q of queries) {
    const call = () => (q.fn === 'search' ? api.search(q.params) : api.counts(q.params));
    const first = await call(); // warm-up (file metadata, OS cache)
    if (BASELINE_REPS >= REPS) await conn.runAndReadAll(q.baseline);
    const hits = q.fn === 'search' ? (JSON.parse(first.body as string) as { meta: { count: number } }).meta.count : first.rows;
    const ours: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < Math.max(REPS, BASELINE_REPS); i++) {
      if (i < REPS) ours.push(await timeIt(call));
      if (i < BASELINE_REPS) base.push(await timeIt(() => conn.runAndReadAll(q.baseline)));
    }
    rows.push({ kind: q.kind, name: q.name, ours, base, hits });
    say(`  ${q.kind.padEnd(12)} ${q.name.slice(0, 44).padEnd(44)} ours p50 ${pct(ours, 50).toFixed(0).padStart(6)} ms  naive p50 ${pct(base, 50).toFixed(0).padStart(6)} ms  (${hits} rows)`);
  }
  void cfg;
  return rows;
}

/** Child process: one export of ~1M rows, consumed and discarded; prints rows, seconds and peak RSS. */
async function exportChild(): Promise<void> {
  const start = opt('--start', START);
  const end = opt('--end', '');
  const cfg = loadConfig(benchEnv({ ROW_LIMIT_ENABLED: 'false', REDIS_PREFIX: 'bench:query:export:', DUCKDB_MEMORY_LIMIT: opt('--export-memory', '256MB') }, MONTH ? MONTH_DIR : DIR));
  const ctx = await createContext(cfg, 'bench:export', { log: createLogger('bench:export', { level: 'warn' }) });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const api = createQueryApi({ cfg, duckdb: ctx.duckdb, redis: ctx.redis, keys: ctx.keys, log: ctx.log, metrics: apiMetrics() });
  const t = performance.now();
  const res = await api.exportPosts({ format: opt('--format', 'csv'), start, ...(end ? { end } : {}) });
  let bytes = 0;
  for await (const chunk of res.body) bytes += chunk.length;
  const lines = res.streamed?.() ?? res.rows;
  const secs = (performance.now() - t) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await ctx.destroy();
  process.stdout.write(JSON.stringify({ lines, bytes, secs, rss_mb: Math.round(peak / 1048576) }) + '\n');
}

async function runExport(conn: DuckDBConnection, posts: string, formats: string[]): Promise<{ rows: number; rowsPerS: number; rssMb: number; format: string }[]> {
  // The end bound that leaves EXPORT_ROWS posts from the start of the dataset (all of them on a smaller one).
  const endRow = (await conn.runAndReadAll(`SELECT strftime(make_timestamp(epoch_us(sort_at)), '%Y-%m-%dT%H:%M:%S.%fZ') FROM ${posts} WHERE sort_at >= TIMESTAMPTZ '${START}' ORDER BY sort_at LIMIT 1 OFFSET ${EXPORT_ROWS}`)).getRows()[0];
  const endTs = endRow ? String(endRow[0]) : '';
  const out = [];
  const [script, env] = await Promise.all([compiledBench(), exportFunctionEnv()]);
  say(`  (the export process: ${path.relative(ROOT, script)} compiled by tsc, as the function images run it, with stack.yml's ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})`);
  for (const format of formats) {
    const child = spawn(process.execPath, [script, '--export-child', '--events', String(EVENTS), '--days', String(DAYS), ...(MONTH ? ['--month'] : []), '--start', START, '--end', endTs, '--format', format, '--export-memory', opt('--export-memory', '256MB')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env, BENCH_ROOT: ROOT },
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`export child exited ${code}`)))));
    const r = JSON.parse(text.trim().split('\n').pop()!) as { lines: number; secs: number; rss_mb: number };
    const rows = r.lines;
    out.push({ rows, rowsPerS: Math.round(rows / r.secs), rssMb: r.rss_mb, format });
    say(`  export ${format}: ${rows} rows in ${r.secs.toFixed(2)} s = ${Math.round(rows / r.secs)} rows/s, peak RSS ${r.rss_mb} MB`);
  }
  return out;
}

/**
 * This bench compiled to JavaScript (with what it imports), as the function images run their code:
 * `node` without the tsx loader, which alone adds ~40 MB of RSS. Returns the compiled script's path.
 */
async function compiledBench(): Promise<string> {
  const out = path.join(ROOT, 'bench-data', '.build');
  await mkdir(out, { recursive: true });
  const tsconfig = path.join(out, 'tsconfig.json');
  const config = { extends: path.join(ROOT, 'tsconfig.json'), compilerOptions: { outDir: out, rootDir: ROOT, sourceMap: false }, include: [], files: [path.join(ROOT, 'bench', 'query.ts')] };
  await writeFile(tsconfig, JSON.stringify(config));
  const tsc = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => tsc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited ${code}`)))));
  return path.join(out, 'bench', 'query.js');
}

/**
 * The process settings stack.yml gives the export function: the allocators' (read by glibc and DuckDB's
 * jemalloc at process start) and DuckDB's file cache. Its memory limit is --export-memory.
 */
async function exportFunctionEnv(): Promise<Record<string, string>> {
  const stack = parseStack(await readFile(path.join(ROOT, 'stack.yml'), 'utf8'), { baseDir: ROOT, env: {} });
  const env = stack.functions.find((f) => f.name === 'export')?.environment ?? {};
  return Object.fromEntries(Object.entries(env).filter(([k]) => /^(MALLOC_|DUCKDB_JE_|DUCKDB_EXTERNAL_FILE_CACHE$)/.test(k)));
}

/** The month from the day dataset (bench/query-month.ts). */
async function buildMonthDataset(): Promise<void> {
  const day = JSON.parse(await readFile(path.join(DIR, 'ready.json'), 'utf8')) as { posts: number };
  const t0 = performance.now();
  say(`building the month: ${DAYS} days from the day dataset under ${MONTH_DIR}`);
  await rm(MONTH_DIR, { recursive: true, force: true });
  const dayCfg = loadConfig(benchEnv({ REDIS_PREFIX: 'bench:query:month:' }));
  const cfg = loadConfig(benchEnv({ REDIS_PREFIX: 'bench:query:month:' }, MONTH_DIR));
  const db = await (await import('../shared/duckdb.js')).openDuckDB(cfg);
  const conn = await db.connect();
  try {
    const m = await buildMonth(conn, dayCfg.storage.parquetDir, cfg.storage.parquetDir, DAYS, cfg.pipeline.pointRowGroupSize, say);
    const posts = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${monthBaseline(cfg.storage.parquetDir).posts}`)).getRows()[0]![0]);
    if (posts !== day.posts * DAYS) throw new Error(`month holds ${posts} posts, expected ${day.posts} × ${DAYS}`);
    await writeFile(path.join(MONTH_DIR, 'ready.json'), JSON.stringify({ events: EVENTS * DAYS, posts, days: DAYS, hours: m.hours, build_s: Math.round((performance.now() - t0) / 1000) }));
    say(`  month ready: ${posts} posts in ${m.hours} hours (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

async function main(): Promise<void> {
  if (flag('--export-child')) return exportChild();
  if (flag('--finish') && !existsSync(path.join(DIR, 'ready.json'))) {
    // A build whose flush and compaction completed but whose last step failed: redo only that step.
    await finishBuild();
  }
  if ((flag('--rebuild') && !flag('--rebuild-month')) || !existsSync(path.join(DIR, 'ready.json'))) {
    say(`building the dataset: ${EVENTS} events (≈${Math.round(EVENTS * SPEC_POST_SHARE)} posts) under ${DIR}`);
    const redisCheck = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redisCheck.connect();
    await redisCheck.quit();
    await build();
  }
  if (MONTH && (flag('--rebuild') || flag('--rebuild-month') || !existsSync(path.join(MONTH_DIR, 'ready.json')))) await buildMonthDataset();
  if (flag('--build-only')) return;
  const readyFile = path.join(MONTH ? MONTH_DIR : DIR, 'ready.json');
  const ready = JSON.parse(await readFile(readyFile, 'utf8')) as { events: number; posts: number; build_s: number; days?: number };
  say(`dataset: ${ready.days ?? 1} day(s), ${ready.posts} posts (built in ${ready.build_s} s); ${REPS} runs per query, ${BASELINE_REPS} per baseline`);
  const cfg = loadConfig(benchEnv({ REDIS_PREFIX: 'bench:query:run:' }, MONTH ? MONTH_DIR : DIR));
  const ctx = await createContext(cfg, 'bench:query', { log: createLogger('bench:query', { level: 'warn' }) });
  const api = createQueryApi({ cfg, duckdb: ctx.duckdb, redis: ctx.redis, keys: ctx.keys, log: ctx.log, metrics: apiMetrics() });
  const conn = await ctx.duckdb.connect();
  try {
    const baseline = MONTH ? monthBaseline(cfg.storage.parquetDir) : dayBaseline();
    const rows = flag('--no-queries') ? [] : await runQueries(cfg, api, conn, baseline);
    say('\nper kind (ms)            ours p50   ours p95   naive p50  naive p95');
    const kinds = [...new Set(rows.map((r) => r.kind))];
    for (const k of kinds) {
      const ours = rows.filter((r) => r.kind === k).flatMap((r) => r.ours);
      const base = rows.filter((r) => r.kind === k).flatMap((r) => r.base);
      say(`  ${k.padEnd(22)} ${pct(ours, 50).toFixed(0).padStart(8)} ${pct(ours, 95).toFixed(0).padStart(10)} ${pct(base, 50).toFixed(0).padStart(10)} ${pct(base, 95).toFixed(0).padStart(10)}`);
    }
    const search = rows.filter((r) => r.kind !== 'counts');
    const oursAll = search.flatMap((r) => r.ours);
    const baseAll = search.flatMap((r) => r.base);
    say(`  ${'search (all kinds)'.padEnd(22)} ${pct(oursAll, 50).toFixed(0).padStart(8)} ${pct(oursAll, 95).toFixed(0).padStart(10)} ${pct(baseAll, 50).toFixed(0).padStart(10)} ${pct(baseAll, 95).toFixed(0).padStart(10)}`);
    if (MONTH) {
      // Only on request: finding the end bound sorts the month's posts.
      if (opt('--export-rows', '')) {
        say(`\nexport of ~${EXPORT_ROWS.toLocaleString('en')} rows of the month (separate process, row limit off, DUCKDB_MEMORY_LIMIT=${opt('--export-memory', '256MB')}):`);
        await runExport(conn, baseline.posts, ['csv']);
      }
      if (JSON_OUT) {
        const p = (xs: number[], q: number) => (xs.length ? Math.round(pct(xs, q)) : null);
        process.stdout.write(JSON.stringify({ posts: ready.posts, days: ready.days, search_p50_ms: p(oursAll, 50), search_p95_ms: p(oursAll, 95), baseline_p95_ms: p(baseAll, 95) }) + '\n');
      }
      return;
    }
    say(`\nexport of ~${EXPORT_ROWS.toLocaleString('en')} rows (separate process, row limit off, DUCKDB_MEMORY_LIMIT=${opt('--export-memory', '256MB')}):`);
    const exp = flag('--no-export') ? [] : await runExport(conn, baseline.posts, ['csv', 'ndjson']);
    const csv = exp.find((e) => e.format === 'csv');
    if (JSON_OUT) {
      process.stdout.write(
        JSON.stringify({
          posts: ready.posts,
          search_p50_ms: oursAll.length ? Math.round(pct(oursAll, 50)) : null,
          search_p95_ms: oursAll.length ? Math.round(pct(oursAll, 95)) : null,
          baseline_p95_ms: baseAll.length ? Math.round(pct(baseAll, 95)) : null,
          export_rows_per_s: csv?.rowsPerS ?? null,
          export_rss_mb: csv?.rssMb ?? null,
        }) + '\n',
      );
    }
  } finally {
    conn.closeSync();
    await ctx.destroy();
  }
}

await main();
