/**
 * Which Parquet files a query reads, through the catalog (one consistent snapshot per table), with the
 * hour partitions pruned by the `sort_at` bounds.
 *
 * Partitions follow `indexed_at` (Jetstream time_us) and `sort_at = least(created_at, indexed_at)`:
 * - lower side, exact: a post with sort_at >= start has indexed_at >= start, so hours before start's
 *   hour are skipped without loss;
 * - upper side, with slack: a post with sort_at < end can have been indexed any time later (a client
 *   back-dating createdAt, imported archives). Hours after `end + QUERY_INDEX_SLACK_MINUTES` are
 *   skipped, so a range query misses only posts indexed more than the slack after their sort_at.
 *   Queries without an upper bound read every later hour.
 * Identities are read whole: a handle may be older than any post range. Deletes and post_features are read
 * from the oldest posts partition listed on, minus a margin (filesAfterPosts): both come after their post,
 * but a delete may carry another Jetstream instance's clock, so it can sit in the hour before its post's.
 */
import { stat } from 'node:fs/promises';
import { listTablesFiles } from '../parquet/catalog.js';
import type { Cursor } from './cursor.js';
import { filesAfterPosts } from './progressive.js';
import type { QueryFilters, Sources } from './sql.js';

export interface SourcePlan {
  sources: Sources;
  /** Sum of the sizes of every listed file (an upper bound of what the query reads). */
  bytes: number;
}

/** The time_us range of posts partitions that can hold matches. */
export function postsPartitionRange(f: Pick<QueryFilters, 'startUs' | 'endUs'>, slackMinutes: number, cursor?: Cursor): { fromUs?: bigint; toUs?: bigint } {
  const slackUs = BigInt(slackMinutes) * 60_000_000n;
  let fromUs = f.startUs;
  let toUs = f.endUs !== undefined ? f.endUs + slackUs : undefined;
  if (cursor?.sort === 'oldest' && (fromUs === undefined || cursor.sortAtUs > fromUs)) fromUs = cursor.sortAtUs;
  if (cursor?.sort === 'newest') {
    const t = cursor.sortAtUs + slackUs;
    if (toUs === undefined || t < toUs) toUs = t;
  }
  return { fromUs, toUs };
}

const sizeCache = new Map<string, number>();

/** File sizes, cached: every file the catalog returns is immutable once in place. */
async function fileBytes(files: readonly string[]): Promise<number> {
  let total = 0;
  const missing: string[] = [];
  for (const f of files) {
    const size = sizeCache.get(f);
    if (size === undefined) missing.push(f);
    else total += size;
  }
  const sizes = await Promise.all(missing.map((f) => stat(f).then((s) => s.size, () => 0)));
  if (sizeCache.size + missing.length > 200_000) sizeCache.clear();
  missing.forEach((f, i) => {
    sizeCache.set(f, sizes[i]!);
    total += sizes[i]!;
  });
  return total;
}

export interface PlanOptions {
  parquetDir: string;
  slackMinutes: number;
  cursor?: Cursor;
  /** Whether the query reads post_features in full (feature filters or a counts feature). */
  wholeFeatures: boolean;
}

/** Lists the files of every table the query touches. */
export async function planSources(f: QueryFilters, opts: PlanOptions): Promise<SourcePlan> {
  const range = postsPartitionRange(f, opts.slackMinutes, opts.cursor);
  const { posts, deletes: allDeletes, post_features: allScores, identities } = await listTablesFiles(opts.parquetDir, {
    posts: range,
    deletes: undefined,
    post_features: undefined,
    identities: undefined,
  });
  const deletes = filesAfterPosts(allDeletes, posts);
  const scores = filesAfterPosts(allScores, posts);
  const bytes = await fileBytes([...posts, ...deletes, ...(opts.wholeFeatures ? scores : [])]);
  return { sources: { posts, deletes, postFeatures: scores, identities }, bytes };
}
