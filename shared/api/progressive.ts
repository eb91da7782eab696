/**
 * Newest-first search without reading the whole range: hour partitions are scanned newest first in
 * growing steps (1, 2, 4, … hours) until the page is known to be exact.
 *
 * Why it is exact: partitions follow indexed_at and sort_at <= indexed_at, so every post in an hour
 * older than H has sort_at < H. Once the `limit`-th best key found in the hours >= H has sort_at >= H,
 * no unscanned post can come before it. `oldest` has no such bound (a back-dated post may sit in any
 * later hour), so it scans the whole pruned range in one step.
 *
 * Each step asks for the top `scan` rows of its files; when deletes and duplicates among them leave
 * fewer than `limit` live keys while more rows exist, the step is repeated with a larger `scan`.
 */
import type { SortOrder } from './params.js';
import type { Sources } from './sql.js';

export interface PostKey {
  uri: string;
  /** sort_at, µs */
  t: bigint;
  /** indexed_at, µs */
  ia: bigint;
}

const HOUR_PATH = /year=(\d{4})[\\/]month=(\d{2})[\\/]day=(\d{2})[\\/]hour=(\d{2})[\\/]/;

/** Start (ms) of the hour partition a catalog path belongs to, or undefined for a path outside the layout. */
export function hourOfFile(file: string): number | undefined {
  const m = HOUR_PATH.exec(file);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

export function compareKeys(a: PostKey, b: PostKey, sort: SortOrder): number {
  const c = a.t < b.t ? -1 : a.t > b.t ? 1 : a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0;
  return sort === 'newest' ? -c : c;
}

/** Groups of files per step: newest hours first, step sizes doubling; one group for `oldest`. */
export function stepGroups(files: readonly string[], sort: SortOrder): { files: string[]; fromMs: number }[] {
  if (sort === 'oldest' || files.length === 0) return files.length ? [{ files: [...files], fromMs: -Infinity }] : [];
  const byHour = new Map<number, string[]>();
  const outside: string[] = [];
  for (const f of files) {
    const h = hourOfFile(f);
    if (h === undefined) outside.push(f);
    else byHour.set(h, [...(byHour.get(h) ?? []), f]);
  }
  // Files outside the layout have no known hour: scan them with everything else, in one step.
  if (outside.length) return [{ files: [...files], fromMs: -Infinity }];
  const hours = [...byHour.keys()].sort((a, b) => b - a);
  const groups: { files: string[]; fromMs: number }[] = [];
  let i = 0;
  for (let size = 1; i < hours.length; size *= 2) {
    const slice = hours.slice(i, i + size);
    groups.push({ files: slice.flatMap((h) => byHour.get(h)!), fromMs: slice[slice.length - 1]! });
    i += size;
  }
  return groups;
}

export type KeysStep = (files: string[], scan: number) => Promise<{ keys: PostKey[]; nTop: number }>;

/** The first `limit` keys in `sort` order over `sources.posts`, scanning as little as the bound allows. */
export async function findKeysProgressively(sources: Sources, sort: SortOrder, limit: number, step: KeysStep): Promise<PostKey[]> {
  const merged = new Map<string, PostKey>();
  let sorted: PostKey[] = [];
  for (const group of stepGroups(sources.posts, sort)) {
    let scan = limit * 2 + 20;
    let got: { keys: PostKey[]; nTop: number };
    for (;;) {
      got = await step(group.files, scan);
      if (got.keys.length >= limit || got.nTop < scan) break;
      scan *= 4;
    }
    for (const k of got.keys) {
      const prev = merged.get(k.uri);
      if (!prev || k.ia > prev.ia) merged.set(k.uri, k);
    }
    sorted = [...merged.values()].sort((a, b) => compareKeys(a, b, sort));
    if (sorted.length > limit) sorted.length = limit;
    const boundUs = BigInt(group.fromMs === -Infinity ? 0 : group.fromMs) * 1000n;
    if (sort === 'newest' && sorted.length >= limit && sorted[limit - 1]!.t >= boundUs) break;
  }
  return sorted;
}
