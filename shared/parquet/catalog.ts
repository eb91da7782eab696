/**
 * The catalog: which Parquet files a query should read for a table, as one consistent set. Every query
 * function reads the tree only through `listTableFiles`.
 *
 * Per hour folder it lists the directory first and then reads the compaction manifest
 * (`_compaction.json`, see shared/compact/manifest.ts), so the manifest is never older than the listing:
 * - a table the manifest names: its current generation file (`.compact/<table>.<gen>.pq`, immutable, kept a
 *   grace period after it is superseded) plus the batch files written after it (late events, replays),
 *   never a batch file the generation already holds;
 * - otherwise: the table's batch files `<table>-<batch>.parquet`, and `<table>.parquet` if some other tool
 *   put one there.
 * Compaction removes replaced batch files only a grace period (longer than a query may run) after the
 * manifest stopped listing them, so every path returned here stays readable for the query that asked.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from '../compact/manifest.js';
import { HOUR_MS, parseParquetPath, type HourPartition } from './layout.js';

export interface TimeRangeUs {
  /** Earliest Jetstream time_us (µs, inclusive) the query needs. */
  fromUs?: bigint | number;
  /** Latest Jetstream time_us (µs, inclusive) the query needs. */
  toUs?: bigint | number;
}

export interface HourDir {
  hour: HourPartition;
  dir: string;
}

const YEAR = /^year=(\d{4})$/;
const MONTH = /^month=(\d{2})$/;
const DAY = /^day=(\d{2})$/;
const HOUR = /^hour=(\d{2})$/;

function toMs(us: bigint | number | undefined, round: 'floor' | 'ceil'): number | undefined {
  if (us === undefined) return undefined;
  const v = BigInt(us);
  const q = v / 1000n;
  const ms = round === 'ceil' && q * 1000n !== v && v > 0n ? q + 1n : q;
  return Number(ms);
}

/**
 * True when the span [startMs, endMs) may hold rows with time in [fromMs, toMs]. Used at each level of
 * the tree (year, month, day, hour), so whole years and months are skipped without being listed.
 */
export function spanOverlaps(startMs: number, endMs: number, fromMs: number | undefined, toMs: number | undefined): boolean {
  if (fromMs !== undefined && endMs <= fromMs) return false;
  if (toMs !== undefined && startMs > toMs) return false;
  return true;
}

async function listDirs(dir: string, re: RegExp): Promise<{ name: string; n: number }[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { name: string; n: number }[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const m = re.exec(e.name);
    if (m) out.push({ name: e.name, n: Number(m[1]) });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** Hour folders under `parquetDir` that may hold rows of `range` (by the partition's time_us hour), oldest first. */
export async function listHourDirs(parquetDir: string, range: TimeRangeUs = {}): Promise<HourDir[]> {
  const fromMs = toMs(range.fromUs, 'floor');
  const toMsV = toMs(range.toUs, 'ceil');
  const out: HourDir[] = [];
  for (const y of await listDirs(parquetDir, YEAR)) {
    if (!spanOverlaps(Date.UTC(y.n, 0, 1), Date.UTC(y.n + 1, 0, 1), fromMs, toMsV)) continue;
    const yDir = path.join(parquetDir, y.name);
    for (const mo of await listDirs(yDir, MONTH)) {
      if (mo.n < 1 || mo.n > 12) continue;
      if (!spanOverlaps(Date.UTC(y.n, mo.n - 1, 1), Date.UTC(y.n, mo.n, 1), fromMs, toMsV)) continue;
      const moDir = path.join(yDir, mo.name);
      for (const d of await listDirs(moDir, DAY)) {
        const dayStart = Date.UTC(y.n, mo.n - 1, d.n);
        if (d.n < 1 || new Date(dayStart).getUTCMonth() !== mo.n - 1) continue;
        if (!spanOverlaps(dayStart, dayStart + 24 * HOUR_MS, fromMs, toMsV)) continue;
        const dDir = path.join(moDir, d.name);
        for (const h of await listDirs(dDir, HOUR)) {
          if (h.n > 23) continue;
          const startMs = dayStart + h.n * HOUR_MS;
          if (!spanOverlaps(startMs, startMs + HOUR_MS, fromMs, toMsV)) continue;
          out.push({ hour: { year: y.n, month: mo.n, day: d.n, hour: h.n, startMs }, dir: path.join(dDir, h.name) });
        }
      }
    }
  }
  return out;
}

/** The files of one table in one hour folder, as the catalog rules above select them. */
export async function listHourTableFiles(hourDir: string, table: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(hourDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  // After the listing, so the manifest is at least as new as what we saw on disk.
  const manifest = await readManifest(hourDir);
  const entry = manifest?.tables[table];
  const batches: string[] = [];
  let bare: string | undefined;
  for (const name of names) {
    const parsed = parseParquetPath(`year=2000/month=01/day=01/hour=00/${name}`);
    if (!parsed || parsed.table !== table) continue;
    if (parsed.compacted) bare = name;
    else batches.push(name);
  }
  batches.sort();
  if (entry) {
    const replaced = new Set(entry.replaces);
    return [path.join(hourDir, entry.file), ...batches.filter((b) => !replaced.has(b)).map((b) => path.join(hourDir, b))];
  }
  return [...(bare ? [bare] : []), ...batches].map((b) => path.join(hourDir, b));
}

/**
 * The consistent set of Parquet files a query should read for `table`: hour partitions outside `range`
 * are pruned, and never a compacted file together with the batch files it replaced.
 *
 * `range` is about the partition time (Jetstream time_us = `indexed_at`). A filter on `sort_at` (which is
 * never later than indexed_at) may only pass `fromUs`: a back-dated post can sit in any later hour.
 */
export async function listTableFiles(parquetDir: string, table: string, range?: TimeRangeUs): Promise<string[]> {
  const hours = await listHourDirs(parquetDir, range);
  const lists = await Promise.all(hours.map((h) => listHourTableFiles(h.dir, table)));
  return lists.flat();
}
