/**
 * Parquet bytes per event, measured on the real pipeline: generates N events with the project's
 * generator (realistic mix and text model), writes them to a Redis stream under a private prefix,
 * runs the real flush and the real compaction, and reports the bytes per event of the raw JSON, of
 * the flushed batch files and of the compacted tree (what queries read and what the disk keeps),
 * then projects GB/day, month, quarter and year at the real firehose volume.
 *
 *   npx tsx k3s/sizing/measure.ts [--events 200000] [--rate 400] [--json]
 *
 * Everything it creates (Redis keys, a temporary data folder) is removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateEvents } from '../../local-tools/generator/generator.js';
import { compact } from '../../shared/compact/compact.js';
import { loadConfig } from '../../shared/config/index.js';
import { createContext } from '../../shared/context.js';
import { FLUSH_TABLES, runFlush } from '../../shared/flush/index.js';
import { listTableFiles } from '../../shared/parquet/catalog.js';

const { values } = parseArgs({ options: { events: { type: 'string' }, rate: { type: 'string' }, json: { type: 'boolean' } } });
const N = Number(values.events ?? 200_000);
const RATE = Number(values.rate ?? 400);

/** Bytes on disk under dir, each inode once (compaction publishes its output as a hard link). */
async function treeBytes(dir: string, seen = new Set<number>()): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p, seen);
    else {
      const st = await stat(p);
      if (!seen.has(st.ino)) total += st.size;
      seen.add(st.ino);
    }
  }
  return total;
}

async function filesBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  return total;
}

const prefix = `sizing:${randomBytes(4).toString('hex')}:`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bsky-sizing-'));
const cfg = loadConfig({ ...process.env, REDIS_PREFIX: prefix, DATA_DIR: dataDir, PARQUET_DIR: '', LOG_LEVEL: 'warn' });
const ctx = await createContext(cfg, 'sizing');
try {
  let rawBytes = 0;
  let n = 0;
  let pipe = ctx.redis.pipeline();
  for (const line of generateEvents({ events: N, rate: RATE, start: '2026-07-01T00:00:00.000Z' })) {
    rawBytes += Buffer.byteLength(line);
    pipe.xadd(ctx.keys.stream, '*', 'e', line);
    if (++n % 2000 === 0) {
      await pipe.exec();
      pipe = ctx.redis.pipeline();
    }
  }
  await pipe.exec();
  const redisBytes = Number(await ctx.redis.memory('USAGE', ctx.keys.stream, 'SAMPLES', '0'));

  const t0 = Date.now();
  let read = 0;
  for (;;) {
    const s = await runFlush(ctx);
    read += s.events_read;
    if (s.events_read === 0) break;
  }
  const flushMs = Date.now() - t0;
  const batchBytes = await treeBytes(cfg.storage.parquetDir);

  const t1 = Date.now();
  await compact(ctx, { swapGraceMs: 0 });
  const compactMs = Date.now() - t1;
  // A second run removes the batch files the first one replaced (steady state of the disk).
  await compact(ctx, { swapGraceMs: 0 });
  const perTable: Record<string, number> = {};
  let liveBytes = 0;
  for (const table of FLUSH_TABLES) {
    const b = await filesBytes(await listTableFiles(cfg.storage.parquetDir, table));
    perTable[table] = Math.round((b / n) * 100) / 100;
    liveBytes += b;
  }
  const diskBytes = await treeBytes(cfg.storage.parquetDir);

  const perEvent = liveBytes / n;
  const gb = (bytes: number) => Math.round((bytes / 1e9) * 100) / 100;
  const projection = Object.fromEntries(
    [30e6, 35e6].map((perDay) => [
      `${perDay / 1e6}M_per_day`,
      { gb_per_day: gb(perEvent * perDay), gb_month: gb(perEvent * perDay * 30.4), gb_3_months: gb(perEvent * perDay * 91.3), gb_year: gb(perEvent * perDay * 365) },
    ]),
  );
  const result = {
    events: n,
    flushed: read,
    raw_json_bytes_per_event: Math.round((rawBytes / n) * 10) / 10,
    redis_bytes_per_entry: Math.round((redisBytes / n) * 10) / 10,
    batch_parquet_bytes_per_event: Math.round((batchBytes / n) * 10) / 10,
    compacted_parquet_bytes_per_event: Math.round(perEvent * 10) / 10,
    disk_bytes_per_event_after_compact: Math.round((diskBytes / n) * 10) / 10,
    compacted_bytes_per_event_by_table: perTable,
    flush_ms: flushMs,
    compact_ms: compactMs,
    projection,
  };
  if (!values.json) {
    console.log(`events ${n} (rate ${RATE}/s from 2026-07-01), flushed ${read} in ${flushMs} ms, compacted in ${compactMs} ms`);
    console.log(`raw JSON ${result.raw_json_bytes_per_event} B/event; Redis ${result.redis_bytes_per_entry} B/entry`);
    console.log(`Parquet: batch files ${result.batch_parquet_bytes_per_event} B/event, compacted ${result.compacted_parquet_bytes_per_event} B/event (disk after compact ${result.disk_bytes_per_event_after_compact})`);
    for (const [k, v] of Object.entries(projection)) console.log(`${k}: ${v.gb_per_day} GB/day, ${v.gb_month} GB/month, ${v.gb_3_months} GB/3 months, ${v.gb_year} GB/year`);
  }
  console.log(JSON.stringify(result));
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await ctx.redis.del(...keys);
  } while (cursor !== '0');
  await ctx.destroy();
  await rm(dataDir, { recursive: true, force: true });
}
