/**
 * The validation's pass/fail rules, as pure functions over what was measured, so they can be read (and
 * tested) apart from the run that feeds them.
 */
import { tableFor, type Truth } from '../generator/truth.js';
import { COUNTED_TABLES, type CountedTable, type TableCounts } from './parquet-count.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** One line for the verdict table. */
  summary: string;
  /** Further lines (mismatches, figures) for the report. */
  details: string[];
}

/** Rows each table must hold once compaction removed deleted records (every delete names a record created earlier). */
export function expectedAfterDeletes(truth: Truth): Record<CountedTable, number> {
  const out = Object.fromEntries(COUNTED_TABLES.map((t) => [t, truth.by_table[t] ?? 0])) as Record<CountedTable, number>;
  for (const [collection, ops] of Object.entries(truth.by_collection)) {
    const deletes = ops['delete'] ?? 0;
    if (!deletes) continue;
    const target = tableFor('commit', 'create', collection) as CountedTable;
    out[target] -= deletes;
  }
  return out;
}

/**
 * Before compaction: per table and per hour, the distinct rows (on the duplicate key) must equal the
 * truth; a shortfall is only acceptable when it is exactly covered by counted drops and quarantined lines.
 */
export function checkFlushedCompleteness(truth: Truth, counts: Map<CountedTable, TableCounts>, accounted: { drops: number; quarantined: number }): CheckResult {
  const details: string[] = [];
  let missing = 0;
  let extra = 0;
  let duplicates = 0;
  const hours = new Set(Object.keys(truth.by_hour));
  for (const tc of counts.values()) for (const h of tc.byHour.keys()) hours.add(h);
  for (const table of COUNTED_TABLES) {
    const tc = counts.get(table);
    for (const h of [...hours].sort()) {
      const want = truth.by_hour[h]?.[table] ?? 0;
      const got = tc?.byHour.get(h) ?? { rows: 0, distinct: 0 };
      duplicates += got.rows - got.distinct;
      if (got.distinct !== want) {
        if (got.distinct < want) missing += want - got.distinct;
        else extra += got.distinct - want;
        if (details.length < 20) details.push(`${table} ${h}: ${got.distinct} distinct rows in Parquet, truth ${want} (${got.distinct - want > 0 ? '+' : ''}${got.distinct - want})`);
      }
    }
  }
  const total = COUNTED_TABLES.reduce((n, t) => n + (counts.get(t)?.distinct ?? 0), 0);
  const covered = missing > 0 && extra === 0 && missing === accounted.drops + accounted.quarantined;
  const ok = (missing === 0 && extra === 0) || covered;
  const summary = ok
    ? `${total.toLocaleString('en')} of ${truth.total.toLocaleString('en')} events in Parquet once per table and hour` +
      (covered ? ` (${missing} accounted as drops/quarantine)` : '') +
      `; ${duplicates.toLocaleString('en')} replayed duplicates left for compaction`
    : `${missing.toLocaleString('en')} events missing, ${extra.toLocaleString('en')} unexpected (drops ${accounted.drops}, quarantined ${accounted.quarantined}) — first mismatch: ${details[0] ?? '?'}`;
  return { name: 'completeness', ok, summary, details };
}

/** After compaction: no duplicate rows anywhere, and each table holds exactly its rows minus deleted records. */
export function checkCompactedCompleteness(truth: Truth, counts: Map<CountedTable, TableCounts>, quarantinedByTable: Record<string, number> = {}): CheckResult {
  const want = expectedAfterDeletes(truth);
  // A quarantined create never reaches Parquet (and none of the generator's deletes target one: it would
  // then be counted twice; the report lists quarantined lines so that case is visible).
  for (const t of COUNTED_TABLES) want[t] -= quarantinedByTable[t] ?? 0;
  const details: string[] = [];
  for (const table of COUNTED_TABLES) {
    const tc = counts.get(table);
    const rows = tc?.rows ?? 0;
    const distinct = tc?.distinct ?? 0;
    if (rows !== distinct) details.push(`${table}: ${rows - distinct} duplicate rows after compaction`);
    if (distinct !== want[table]) details.push(`${table}: ${distinct} rows after compaction, expected ${want[table]} (truth ${truth.by_table[table] ?? 0} minus deleted records${quarantinedByTable[table] ? ` and ${quarantinedByTable[table]} quarantined` : ''})`);
  }
  if ((counts.get('posts')?.distinct ?? 0) !== truth.posts_after_deletes - (quarantinedByTable['posts'] ?? 0)) details.push(`posts: ${counts.get('posts')?.distinct ?? 0}, truth posts_after_deletes ${truth.posts_after_deletes}`);
  const ok = details.length === 0;
  return {
    name: 'compaction',
    ok,
    summary: ok ? `every table deduplicated, deleted records removed (posts ${truth.posts_after_deletes.toLocaleString('en')} = truth posts_after_deletes)` : details[0]!,
    details,
  };
}

export interface MemorySeries {
  name: string;
  /** MB samples in time order. */
  values: number[];
}

/** Bounded memory: the max of the second half of the run is at most 1.5× the max of the first half plus slack. */
export function checkMemory(series: MemorySeries[], slackMb = 64, factor = 1.5): CheckResult {
  const details: string[] = [];
  let ok = true;
  for (const s of series) {
    const v = s.values.filter((x) => x > 0);
    if (v.length < 4) {
      details.push(`${s.name}: too few samples (${v.length})`);
      continue;
    }
    const half = Math.floor(v.length / 2);
    const first = Math.max(...v.slice(0, half));
    const second = Math.max(...v.slice(half));
    const bound = first * factor + slackMb;
    const good = second <= bound;
    ok &&= good;
    details.push(`${s.name}: max ${first.toFixed(0)} MB in the first half, ${second.toFixed(0)} MB in the second (bound ${bound.toFixed(0)} MB) ${good ? 'ok' : 'GROWING'}`);
  }
  return { name: 'memory', ok, summary: ok ? details.map((d) => d.replace(/ \(bound.*$/, '')).join('; ') : details.filter((d) => d.endsWith('GROWING')).join('; '), details };
}

/** p-th percentile (nearest rank) of unsorted values. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
