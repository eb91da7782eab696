/**
 * `npm run bench:flush [-- --events N] [--seed S] [--json] [--keep] [--verbose]`: on generated events, prints side by
 * side our flush rate (Redis stream → Parquet, in a child process whose peak RSS is read from VmHWM),
 * DuckDB's own `read_json` → `COPY … TO parquet` rate on the same events from a file (the engine's
 * ceiling), the Redis part alone (one slice read through the consumer group and acknowledged, nothing
 * converted: the stream's floor), the compression (Parquet bytes ÷ raw JSON bytes, overall and per table) of the flush's files
 * and of the compacted files, and the compaction rate. With `--json` the last line is
 * `{"events_per_s","duckdb_ceiling_events_per_s","parquet_ratio","rss_mb", …}`.
 * Goals (issue 4): ≥ 200,000 events/s, ≤ 1 GB RSS for a 1M-event batch, ratio ≤ 12%.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import { compact } from '../shared/compact/compact.js';
import { loadConfig } from '../shared/config/index.js';
import { createContext } from '../shared/context.js';
import { sqlString } from '../shared/duckdb.js';
import { runFlush } from '../shared/flush/index.js';
import { ackAndDelete, ensureGroup, nextBatch } from '../shared/flush/stream.js';
import { parseParquetPath } from '../shared/parquet/layout.js';
import { redisKeys } from '../shared/redis.js';
import { COLLECTIONS, TABLE_NAMES, type TableName } from '../shared/tables/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GOALS = { eventsPerS: 200_000, rssMb: 1024, ratio: 0.12 };

/** VmHWM (peak resident set) of this process in MB. */
async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : process.memoryUsage().rss / 1024 / 1024;
}

/** Child mode: one flush run over the prepared stream; prints one JSON line. */
async function child(): Promise<void> {
  const cfg = loadConfig(process.env);
  const ctx = await createContext(cfg, 'bench:flush');
  try {
    const t0 = performance.now();
    const s = await runFlush(ctx);
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ events: s.events_read, ms, batches: s.batches, quarantined: s.quarantined, rss_mb: await peakRssMb() }) + '\n');
  } finally {
    await ctx.destroy();
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

/** The table an event's line belongs to (the flush's routing, from a few fields). */
function tableOfLine(line: string): TableName {
  const kind = /"kind":"(\w+)"/.exec(line)?.[1];
  if (kind === 'identity') return 'identities';
  if (kind === 'account') return 'accounts';
  if (/"operation":"delete"/.test(line)) return 'deletes';
  const col = /"collection":"([^"]+)"/.exec(line)?.[1];
  switch (col) {
    case COLLECTIONS.post: return 'posts';
    case COLLECTIONS.like: return 'likes';
    case COLLECTIONS.repost: return 'reposts';
    case COLLECTIONS.follow: return 'follows';
    case COLLECTIONS.block: return 'blocks';
    case COLLECTIONS.profile: return 'profiles';
    default: return 'records';
  }
}

/** Loads every line (at most `max`) into the stream (field `e`, as the daemon writes), pipelined; returns raw bytes per table. */
async function loadStream(redis: Redis, stream: string, file: string, max = Infinity): Promise<{ events: number; bytes: number; byTable: Map<TableName, number> }> {
  const byTable = new Map<TableName, number>();
  let events = 0;
  let bytes = 0;
  let pipe = redis.pipeline();
  let inPipe = 0;
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const n = Buffer.byteLength(line) + 1;
    bytes += n;
    events++;
    const t = tableOfLine(line);
    byTable.set(t, (byTable.get(t) ?? 0) + n);
    pipe.xadd(stream, '*', 'e', line);
    if (++inPipe === 5000) {
      await pipe.exec();
      pipe = redis.pipeline();
      inPipe = 0;
    }
    if (events >= max) break;
  }
  if (inPipe) await pipe.exec();
  return { events, bytes, byTable };
}

async function parquetBytes(dir: string, compacted: boolean): Promise<Map<TableName, number>> {
  const out = new Map<TableName, number>();
  const entries = existsSync(dir) ? await readdir(dir, { recursive: true, encoding: 'utf8' }) : [];
  for (const rel of entries) {
    let table: string | undefined;
    if (compacted) {
      const m = /\.compact\/([a-z_]+)\.\d+\.pq$/.exec(rel.split(path.sep).join('/'));
      table = m?.[1];
    } else {
      const p = parseParquetPath(rel);
      table = p && !p.compacted ? p.table : undefined;
    }
    if (!table) continue;
    const size = (await stat(path.join(dir, rel))).size;
    out.set(table as TableName, (out.get(table as TableName) ?? 0) + size);
  }
  return out;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const sum = (m: Map<unknown, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      events: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '42' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      child: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (values.child) return child();
  const events = Number(values.events);
  if (!Number.isInteger(events) || events < 1) throw new Error(`--events: expected a positive integer, got ${values.events}`);
  const base = loadConfig(process.env);
  const say = (s: string) => process.stdout.write(s + '\n');

  // 1. Events: generated once per (count, seed) and cached in the temp folder.
  const file = path.join(os.tmpdir(), `bsky-bench-flush-${events}-${values.seed}.jsonl`);
  if (!existsSync(file)) {
    say(`generating ${fmt(events)} events → ${file}`);
    await run(process.execPath, ['--import', 'tsx', 'local-tools/generator/main.ts', '--events', String(events), '--out', file, '--seed', String(values.seed), '--quiet'], process.env);
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'bsky-bench-flush-'));
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_PREFIX: prefix,
    DATA_DIR: work,
    PARQUET_DIR: path.join(work, 'parquet'),
    QUARANTINE_DIR: path.join(work, 'quarantine'),
    FLUSH_BATCH_SIZE: String(events),
    FLUSH_MAX_BATCHES: '1000',
    // --verbose shows the flush's own per-batch timings (convert / write / ack) on stderr.
    LOG_LEVEL: values.verbose ? 'info' : 'warn',
  };
  const cfg = loadConfig(env as Record<string, string>);
  const redis = new Redis(base.redis.url, { maxRetriesPerRequest: 2 });
  const keys = redisKeys(prefix);
  try {
    // 2. The ceiling: DuckDB alone, JSON file → ZSTD Parquet.
    const db = await DuckDBInstance.create(':memory:', { threads: String(cfg.duckdb.threads), memory_limit: cfg.duckdb.memoryLimit });
    const conn = await db.connect();
    const ceilingOut = path.join(work, 'ceiling.parquet');
    const c0 = performance.now();
    await conn.run(
      `COPY (SELECT * FROM read_json(${sqlString(file)}, format = 'newline_delimited')) TO ${sqlString(ceilingOut)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const ceilingMs = performance.now() - c0;
    const ceilingBytes = (await stat(ceilingOut)).size;
    conn.closeSync();
    db.closeSync();

    // 3. Our flush: the same events in a Redis stream, one flush run in a child process.
    const loaded = await loadStream(redis, keys.stream, file);
    const out = await run(process.execPath, ['--import', 'tsx', 'bench/flush.ts', '--child'], env);
    const flushed = JSON.parse(out.trim().split('\n').pop()!) as { events: number; ms: number; batches: number; quarantined: number; rss_mb: number };
    const flushBytes = await parquetBytes(cfg.storage.parquetDir, false);

    // 3b. Redis alone: one slice read through the consumer group and acknowledged by the flush's own
    // code, nothing converted: the floor the stream puts under any flush on this machine.
    const floorStream = `${prefix}floor`;
    const floorLoaded = await loadStream(redis, floorStream, file, cfg.pipeline.flushSliceSize);
    await ensureGroup(redis, floorStream, 'bench');
    const ids: string[] = [];
    const r0 = performance.now();
    await nextBatch(redis, { stream: floorStream, group: 'bench', consumer: 'bench', batchSize: floorLoaded.events, claimIdleMs: 3_600_000 }, async (entries) => {
      for (const e of entries) ids.push(e.id);
    });
    await ackAndDelete(redis, floorStream, 'bench', ids);
    const redisMs = performance.now() - r0;

    // 4. Compaction of the flushed hours (all closed: the generator's clock is in the past).
    const ctx = await createContext(cfg, 'bench:compact');
    let compactMs = 0;
    let compactRows = 0;
    try {
      const k0 = performance.now();
      const s = await compact(ctx, { graceMinutes: 0, waitForPublish: false });
      compactMs = performance.now() - k0;
      compactRows = Object.values(s.tables).reduce((a, t) => a + t.rows_in, 0);
    } finally {
      await ctx.destroy();
    }
    const compactBytes = await parquetBytes(cfg.storage.parquetDir, true);

    const eventsPerS = (flushed.events / flushed.ms) * 1000;
    const ceilingPerS = (loaded.events / ceilingMs) * 1000;
    const ratio = sum(flushBytes) / loaded.bytes;
    const compactedRatio = sum(compactBytes) / loaded.bytes;
    const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');

    say('');
    say(`bench:flush — ${fmt(loaded.events)} generated events (seed ${values.seed}), ${fmt(loaded.bytes)} bytes of raw JSON, DuckDB threads ${cfg.duckdb.threads}, memory limit ${cfg.duckdb.memoryLimit}`);
    say('');
    say(`                                  ours (Redis → Parquet)   DuckDB ceiling (file → Parquet)   goal`);
    say(`  events/s                        ${fmt(eventsPerS).padStart(22)}   ${fmt(ceilingPerS).padStart(31)}   ≥ ${fmt(GOALS.eventsPerS)} (${mark(eventsPerS >= GOALS.eventsPerS)})`);
    say(`  wall time (ms)                  ${fmt(flushed.ms).padStart(22)}   ${fmt(ceilingMs).padStart(31)}`);
    say(`  Redis alone: ${fmt(ids.length)} entries read through the group and acknowledged, nothing converted: ${fmt(redisMs)} ms = ${fmt((ids.length / redisMs) * 1000)} events/s`);
    say(`  Parquet ÷ raw JSON              ${pct(ratio).padStart(22)}   ${pct(ceilingBytes / loaded.bytes).padStart(31)}   ≤ ${pct(GOALS.ratio)} (${mark(ratio <= GOALS.ratio)})`);
    say(`  peak RSS of the flush (MB)      ${fmt(flushed.rss_mb).padStart(22)}   ${''.padStart(31)}   ≤ ${fmt(GOALS.rssMb)} (${mark(flushed.rss_mb <= GOALS.rssMb)})`);
    say(`  (flush: ${flushed.batches} batch(es), ${fmt(flushed.events)} events read, ${flushed.quarantined} quarantined)`);
    say('');
    say(`  per table          raw JSON bytes   flush Parquet   ratio   compacted   ratio`);
    for (const t of TABLE_NAMES) {
      const raw = loaded.byTable.get(t) ?? 0;
      const fb = flushBytes.get(t) ?? 0;
      const cb = compactBytes.get(t) ?? 0;
      if (!raw && !fb) continue;
      say(`  ${t.padEnd(14)} ${fmt(raw).padStart(18)} ${fmt(fb).padStart(15)} ${(raw ? pct(fb / raw) : '—').padStart(7)} ${fmt(cb).padStart(11)} ${(raw ? pct(cb / raw) : '—').padStart(7)}`);
    }
    say(`  ${'all'.padEnd(14)} ${fmt(loaded.bytes).padStart(18)} ${fmt(sum(flushBytes)).padStart(15)} ${pct(ratio).padStart(7)} ${fmt(sum(compactBytes)).padStart(11)} ${pct(compactedRatio).padStart(7)}`);
    say('');
    say(`  compaction: ${fmt(compactRows)} rows in ${fmt(compactMs)} ms (${fmt((compactRows / compactMs) * 1000)} rows/s)`);
    if (values.json) {
      say(
        JSON.stringify({
          events_per_s: Math.round(eventsPerS),
          duckdb_ceiling_events_per_s: Math.round(ceilingPerS),
          parquet_ratio: Number(ratio.toFixed(4)),
          rss_mb: Math.round(flushed.rss_mb),
          compacted_ratio: Number(compactedRatio.toFixed(4)),
          redis_floor_events_per_s: Math.round((ids.length / redisMs) * 1000),
          events: loaded.events,
        }),
      );
    }
  } finally {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) await redis.del(...found);
    } while (cursor !== '0');
    await redis.quit();
    if (!values.keep) await rm(work, { recursive: true, force: true });
    else process.stderr.write(`kept ${work}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:flush failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
