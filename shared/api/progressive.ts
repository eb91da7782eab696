/**
 * Newest-first search without reading the whole range: hour partitions are scanned newest first in
 * growing steps until the page is known to be exact. The first step reads one hour; each next one at
 * least doubles, or reads as many hours as the hit rate so far says the page still needs.
 *
 * Why it is exact: partitions follow indexed_at and sort_at <= indexed_at, so every post in an hour
 * older than H has sort_at < H. Once the `limit`-th best key found in the hours >= H has sort_at >= H,
 * no unscanned post can come before it.
 *
 * `oldest` has no such bound from the folders (a back-dated post may sit in any later hour). A probe of
 * the oldest hour gives one: K, the `limit`-th smallest sort_at among its matching rows. One step then
 * reads every hour for keys up to K only (`upToUs`, inclusive for ties); compacted files are sorted by
 * sort_at, so their row-group statistics let DuckDB skip all but the row groups that can hold such
 * keys. When deletes or duplicates leave fewer than `limit` live keys up to K (the probe does not check
 * them), the step is done again without the bound.
 *
 * Each step asks for the top `scan` rows of its files; when deletes and duplicates among them leave
 * fewer than `limit` live keys while more rows exist, the step is repeated with a larger `scan`.
 */
import { AFTER_POST_MARGIN_MS } from '../parquet/layout.js';
import type { SortOrder } from './params.js';
import type { Sources } from './sql.js';

export interface PostKey {
  uri: string;
  /** sort_at, µs */
  t: bigint;
  /** indexed_at, µs */
  ia: bigint;
  /** The physical row holding this version: its Parquet file and row number there. */
  file: string;
  row: bigint;
}

const HOUR_PATH = /year=(\d{4})[\\/]month=(\d{2})[\\/]day=(\d{2})[\\/]hour=(\d{2})[\\/]/;

/** Start (ms) of the hour partition a catalog path belongs to, or undefined for a path outside the layout. */
export function hourOfFile(file: string): number | undefined {
  const m = HOUR_PATH.exec(file);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

/**
 * Of `files` (deletes or post_features), those that can hold rows about posts in `posts`: partitions no
 * older than the oldest posts partition minus the margin. Without a known hour for every posts file,
 * all of `files`; files outside the layout are always kept.
 */
export function filesAfterPosts(files: readonly string[], posts: readonly string[]): string[] {
  let oldest = Infinity;
  for (const p of posts) {
    const h = hourOfFile(p);
    if (h === undefined) return [...files];
    if (h < oldest) oldest = h;
  }
  const fromMs = oldest - AFTER_POST_MARGIN_MS;
  return files.filter((f) => (hourOfFile(f) ?? Infinity) >= fromMs);
}

export function compareKeys(a: PostKey, b: PostKey, sort: SortOrder): number {
  const c = a.t < b.t ? -1 : a.t > b.t ? 1 : a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0;
  return sort === 'newest' ? -c : c;
}

/** The files grouped by hour partition, in `sort` order; undefined when the scan cannot go by hours. */
function hoursInOrder(files: readonly string[], sort: SortOrder): string[][] | undefined {
  const byHour = new Map<number, string[]>();
  for (const f of files) {
    const h = hourOfFile(f);
    // A file outside the layout has no known hour: scan everything in one step.
    if (h === undefined) return undefined;
    byHour.set(h, [...(byHour.get(h) ?? []), f]);
  }
  return [...byHour.keys()].sort((a, b) => (sort === 'newest' ? b - a : a - b)).map((h) => byHour.get(h)!);
}

/**
 * How many hours the next step reads: at least twice the last step, and as many as the hit rate so far
 * says the rest of the page needs (x1.5). A word found in no hour yet quadruples the step: a day is then
 * read in 3-4 steps, and a month's rare word (a few hits a day) stops after a few days instead of reading
 * all 720 hours in one step (measured on bench:query --month: 2.2-4.4 s for that one step).
 */
export function nextStepHours(lastStep: number, hoursScanned: number, rowsMatched: number, missing: number): number {
  if (rowsMatched === 0) return lastStep * 4;
  const byRate = Math.ceil(((missing * hoursScanned) / rowsMatched) * 1.5);
  return Math.max(lastStep * 2, byRate);
}

/**
 * One step: the first `limit` live keys in `files` (asking DuckDB for the top `scan` rows), only those with
 * sort_at <= `upToUs` when given.
 */
export type KeysStep = (files: string[], scan: number, upToUs?: bigint) => Promise<{ keys: PostKey[]; nTop: number }>;

/** The `limit`-th smallest sort_at (µs) among the rows of `files` matching the filters, deletes not checked; undefined when fewer rows match. */
export type SortAtProbe = (files: string[], limit: number) => Promise<bigint | undefined>;

/** The first `limit` keys in `sort` order over `sources.posts`, scanning as little as the bound allows (see the top of this file). */
export async function findKeysProgressively(sources: Sources, sort: SortOrder, limit: number, step: KeysStep, probe?: SortAtProbe): Promise<PostKey[]> {
  const hours = hoursInOrder(sources.posts, sort) ?? [[...sources.posts]];
  const merged = new Map<string, PostKey>();
  let sorted: PostKey[] = [];
  let done = 0;
  let size = 1;
  let matched = 0;
  const run = async (files: string[], upToUs?: bigint) => {
    let scan = limit * 2 + 20;
    let got: { keys: PostKey[]; nTop: number };
    for (;;) {
      got = await step(files, scan, upToUs);
      if (got.keys.length >= limit || got.nTop < scan) break;
      scan *= 4;
    }
    for (const k of got.keys) {
      const prev = merged.get(k.uri);
      if (!prev || k.ia > prev.ia) merged.set(k.uri, k);
    }
    sorted = [...merged.values()].sort((a, b) => compareKeys(a, b, sort));
    if (sorted.length > limit) sorted.length = limit;
    return got.nTop;
  };
  if (sort === 'oldest') {
    // Oldest first: probe the oldest hour for a bound, one bounded step, unbounded only if it fell short.
    const all = hours.flat();
    const bound = probe && hours.length > 1 ? await probe(hours[0]!, limit) : undefined;
    if (bound !== undefined) {
      await run(all, bound);
      if (sorted.length >= limit) return sorted;
      merged.clear();
    }
    await run(all);
    return sorted;
  }
  while (done < hours.length) {
    const group = hours.slice(done, done + size);
    const files = group.flat();
    const nTop = await run(files);
    done += group.length;
    if (done >= hours.length) break;
    if (sorted.length >= limit) {
      const oldestMs = hourOfFile(files[files.length - 1]!)!;
      if (sorted[limit - 1]!.t >= BigInt(oldestMs) * 1000n) break;
    }
    matched += nTop;
    size = nextStepHours(group.length, done, matched, limit - Math.min(limit, sorted.length));
  }
  return sorted;
}
