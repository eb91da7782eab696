/**
 * The Parquet tree's layout: `year=YYYY/month=MM/day=DD/hour=HH/<table>-<batch>.parquet` written by the
 * flush, `<table>.parquet` after compaction. The hour is the UTC hour of the event's Jetstream time_us.
 */
import path from 'node:path';
import { isTableName } from '../tables/index.js';
import type { TableName } from '../tables/types.js';

export const HOUR_US = 3_600_000_000n;
export const HOUR_MS = 3_600_000;

/**
 * Deletes and scores are written after their post (a delete is committed after the post it deletes; an
 * enrichment import, filed under the hour of the import, scores a post already seen on the network), but
 * they are filed by clocks that may differ from the post's: another Jetstream instance's after a
 * fail-over, the enrich function's server clock. Readers look for them from one hour before the post's
 * partition on.
 */
export const AFTER_POST_MARGIN_MS = 3_600_000;

/** An hour partition, as its start in ms since the epoch (UTC, always a whole hour). */
export interface HourPartition {
  year: number;
  month: number;
  day: number;
  hour: number;
  /** First millisecond of the hour. */
  startMs: number;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The hour containing `timeUs` (µs since the epoch). */
export function hourOfTimeUs(timeUs: bigint | number): HourPartition {
  const us = BigInt(timeUs);
  const hourIndex = us >= 0n ? us / HOUR_US : (us - HOUR_US + 1n) / HOUR_US;
  return hourFromStartMs(Number(hourIndex) * HOUR_MS);
}

/** The hour containing `ms` (ms since the epoch, or a Date). */
export function hourOfMs(ms: number | Date): HourPartition {
  const t = typeof ms === 'number' ? ms : ms.getTime();
  return hourFromStartMs(Math.floor(t / HOUR_MS) * HOUR_MS);
}

function hourFromStartMs(startMs: number): HourPartition {
  const d = new Date(startMs);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), startMs };
}

/** `year=YYYY/month=MM/day=DD/hour=HH` (relative, with `/`). */
export function partitionPath(h: Pick<HourPartition, 'year' | 'month' | 'day' | 'hour'>): string {
  return `year=${pad(h.year, 4)}/month=${pad(h.month)}/day=${pad(h.day)}/hour=${pad(h.hour)}`;
}

/** Absolute folder of an hour under the Parquet root. */
export function partitionDir(parquetDir: string, h: Pick<HourPartition, 'year' | 'month' | 'day' | 'hour'>): string {
  return path.join(parquetDir, ...partitionPath(h).split('/'));
}

const STREAM_ID = /^(\d+)-(\d+)$/;

/**
 * The batch name for stream entries `firstId`..`lastId` (Redis stream IDs `ms-seq`), e.g.
 * `1783175888090-0_1783175888400-5`: the same entries always give the same name, so a re-run after a
 * crash rewrites the same files. The ms part is zero-padded to 13 digits so names sort by time.
 */
export function batchName(firstId: string, lastId: string): string {
  const a = STREAM_ID.exec(firstId);
  const b = STREAM_ID.exec(lastId);
  if (!a || !b) throw new Error(`not a stream ID: ${a ? lastId : firstId}`);
  return `${a[1]!.padStart(13, '0')}-${a[2]}_${b[1]!.padStart(13, '0')}-${b[2]}`;
}

/** `<table>-<batch>.parquet`. */
export function batchFileName(table: TableName, batch: string): string {
  return `${table}-${batch}.parquet`;
}

/** `<table>.parquet`: the compacted file of an hour. */
export function compactedFileName(table: TableName): string {
  return `${table}.parquet`;
}

/** Absolute path of a batch file. */
export function batchFilePath(parquetDir: string, h: HourPartition, table: TableName, batch: string): string {
  return path.join(partitionDir(parquetDir, h), batchFileName(table, batch));
}

/** Absolute path of a compacted file. */
export function compactedFilePath(parquetDir: string, h: HourPartition, table: TableName): string {
  return path.join(partitionDir(parquetDir, h), compactedFileName(table));
}

export interface ParsedParquetPath {
  hour: HourPartition;
  table: TableName;
  /** The batch name for a flush file; undefined for a compacted file. */
  batch?: string;
  compacted: boolean;
}

const PATH_RE =
  /(?:^|\/)year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\/([a-z_]+)(?:-(\d{13}-\d+_\d{13}-\d+))?\.parquet$/;

/**
 * Parses a path (absolute or relative to the Parquet root, `/` or the OS separator) into its hour, table
 * and batch; undefined for anything else (temporary files, unknown tables, other names).
 */
export function parseParquetPath(p: string): ParsedParquetPath | undefined {
  const m = PATH_RE.exec(p.split(path.sep).join('/'));
  if (!m) return undefined;
  const [, y, mo, d, h, table, batch] = m;
  if (!isTableName(table!)) return undefined;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const startMs = Date.UTC(year, month - 1, day, hour);
  const check = new Date(startMs);
  if (check.getUTCMonth() + 1 !== month || check.getUTCDate() !== day || check.getUTCHours() !== hour) return undefined;
  return { hour: { year, month, day, hour, startMs }, table, batch, compacted: batch === undefined };
}
