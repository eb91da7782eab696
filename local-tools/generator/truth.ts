/**
 * Ground truth for a generated file: counts per kind, operation, collection, pipeline table and UTC
 * hour, and the posts that carry planted phrases. The validation compares what the pipeline stored
 * against it; `countLine` is also how tests recount a file independently of the generator.
 */
import type { JetstreamEvent } from '../../shared/jetstream/events.js';
import type { EventMeta, PlantedPost } from './generator.js';
import { hourKey } from './time.js';

export const TABLES = ['posts', 'likes', 'reposts', 'follows', 'blocks', 'profiles', 'records', 'deletes', 'identities', 'accounts'] as const;
export type TableName = (typeof TABLES)[number];

const BY_COLLECTION: Record<string, TableName> = {
  'app.bsky.feed.post': 'posts',
  'app.bsky.feed.like': 'likes',
  'app.bsky.feed.repost': 'reposts',
  'app.bsky.graph.follow': 'follows',
  'app.bsky.graph.block': 'blocks',
  'app.bsky.actor.profile': 'profiles',
};

/** The pipeline table an event lands in: creates/updates by collection, any delete → deletes. */
export function tableFor(kind: string, operation: string | undefined, collection: string | undefined): TableName {
  if (kind === 'identity') return 'identities';
  if (kind === 'account') return 'accounts';
  if (operation === 'delete') return 'deletes';
  return BY_COLLECTION[collection ?? ''] ?? 'records';
}

export interface Truth {
  generator: Record<string, unknown>;
  total: number;
  first_time_us: number | null;
  last_time_us: number | null;
  by_kind: Record<string, number>;
  by_operation: Record<string, number>;
  /** collection → operation → count. */
  by_collection: Record<string, Record<string, number>>;
  by_table: Record<TableName, number>;
  /** Posts created minus posts deleted (every delete in the file names a post created earlier in it). */
  posts_after_deletes: number;
  /** `YYYY-MM-DDTHH` (UTC, from time_us) → table → count, plus `events`. */
  by_hour: Record<string, Record<string, number>>;
  planted: PlantedPost[];
}

const HOUR_US = 3_600_000_000;

export class TruthCounter {
  private total = 0;
  private first: number | null = null;
  private last: number | null = null;
  private readonly kinds = new Map<string, number>();
  private readonly ops = new Map<string, number>();
  private readonly collections = new Map<string, Map<string, number>>();
  private readonly tables = new Map<TableName, number>();
  /** Hour index → counts per table (array indexed like TABLES). */
  private readonly hours = new Map<number, Int32Array>();
  private readonly planted: PlantedPost[] = [];
  private readonly tableIndex = new Map<TableName, number>(TABLES.map((t, i) => [t, i]));

  add(kind: string, operation: string | undefined, collection: string | undefined, timeUs: number): void {
    this.total++;
    if (this.first === null) this.first = timeUs;
    this.last = timeUs;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (operation !== undefined) this.ops.set(operation, (this.ops.get(operation) ?? 0) + 1);
    if (collection !== undefined && operation !== undefined) {
      let m = this.collections.get(collection);
      if (!m) this.collections.set(collection, (m = new Map()));
      m.set(operation, (m.get(operation) ?? 0) + 1);
    }
    const table = tableFor(kind, operation, collection);
    this.tables.set(table, (this.tables.get(table) ?? 0) + 1);
    const hour = Math.floor(timeUs / HOUR_US);
    let counts = this.hours.get(hour);
    if (!counts) this.hours.set(hour, (counts = new Int32Array(TABLES.length)));
    (counts[this.tableIndex.get(table) as number] as number)++;
  }

  addMeta(meta: EventMeta): void {
    this.add(meta.kind, meta.operation, meta.collection, meta.timeUs);
    if (meta.planted) this.planted.push({ ...meta.planted });
  }

  /** Counts one raw line (parsed); used to recount a file independently. */
  addEvent(event: JetstreamEvent): void {
    if (event.kind === 'commit') this.add('commit', event.commit.operation, event.commit.collection, event.time_us);
    else this.add(event.kind, undefined, undefined, event.time_us);
  }

  result(generator: Record<string, unknown> = {}): Truth {
    const byTable = Object.fromEntries(TABLES.map((t) => [t, this.tables.get(t) ?? 0])) as Record<TableName, number>;
    const byHour: Record<string, Record<string, number>> = {};
    for (const hour of [...this.hours.keys()].sort((a, b) => a - b)) {
      const counts = this.hours.get(hour) as Int32Array;
      const row: Record<string, number> = { events: counts.reduce((s, n) => s + n, 0) };
      TABLES.forEach((t, i) => (row[t] = counts[i] as number));
      byHour[hourKey(hour * HOUR_US)] = row;
    }
    const sortObj = <V>(m: Map<string, V>): Record<string, V> => Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      generator,
      total: this.total,
      first_time_us: this.first,
      last_time_us: this.last,
      by_kind: sortObj(this.kinds),
      by_operation: sortObj(this.ops),
      by_collection: Object.fromEntries(
        [...this.collections.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, m]) => [c, sortObj(m)]),
      ),
      by_table: byTable,
      posts_after_deletes: byTable.posts - (this.collections.get('app.bsky.feed.post')?.get('delete') ?? 0),
      by_hour: byHour,
      planted: this.planted,
    };
  }
}
