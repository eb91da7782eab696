/** The validation's pass/fail rules on hand-made figures (no pipeline). */
import t from 'tap';
import type { Truth } from '../../local-tools/generator/truth.js';
import { checkCompactedCompleteness, checkFlushedCompleteness, checkMemory, expectedAfterDeletes, percentile } from '../../local-tools/validate/checks.js';
import type { CountedTable, TableCounts } from '../../local-tools/validate/parquet-count.js';
import { lineChart, niceTicks } from '../../local-tools/validate/svg.js';

const H = '2026-07-01T00';
const truth = {
  total: 12,
  by_table: { posts: 5, likes: 4, reposts: 0, follows: 0, blocks: 0, profiles: 0, records: 0, deletes: 3, identities: 0, accounts: 0 },
  by_collection: { 'app.bsky.feed.post': { create: 5, delete: 2 }, 'app.bsky.feed.like': { create: 4, delete: 1 } },
  by_hour: { [H]: { events: 12, posts: 5, likes: 4, deletes: 3 } },
  posts_after_deletes: 3,
  planted: [],
} as unknown as Truth;

function counts(rows: Partial<Record<CountedTable, [number, number]>>): Map<CountedTable, TableCounts> {
  const m = new Map<CountedTable, TableCounts>();
  for (const [table, [r, d]] of Object.entries(rows) as Array<[CountedTable, [number, number]]>) {
    m.set(table, { byHour: new Map([[H, { rows: r, distinct: d }]]), rows: r, distinct: d, files: [] });
  }
  return m;
}

t.test('expected rows after compaction subtract each collection\'s deletes from its table', async (t) => {
  const e = expectedAfterDeletes(truth);
  t.equal(e.posts, 3);
  t.equal(e.likes, 3);
  t.equal(e.deletes, 3);
});

t.test('flushed completeness: exact, short, covered by drops', async (t) => {
  const ok = checkFlushedCompleteness(truth, counts({ posts: [6, 5], likes: [4, 4], deletes: [3, 3] }), { drops: 0, quarantined: 0 });
  t.equal(ok.ok, true);
  t.match(ok.summary, /^12 of 12 events in Parquet once per table and hour; 1 replayed duplicates/);
  const short = checkFlushedCompleteness(truth, counts({ posts: [5, 5], likes: [3, 3], deletes: [3, 3] }), { drops: 0, quarantined: 0 });
  t.equal(short.ok, false);
  t.equal(short.name, 'completeness');
  t.match(short.summary, /^1 events missing, 0 unexpected .* first mismatch: likes 2026-07-01T00: 3 distinct rows in Parquet, truth 4 \(-1\)/);
  t.equal(checkFlushedCompleteness(truth, counts({ posts: [5, 5], likes: [3, 3], deletes: [3, 3] }), { drops: 1, quarantined: 0 }).ok, true);
  t.equal(checkFlushedCompleteness(truth, counts({ posts: [5, 5], likes: [5, 5], deletes: [3, 3] }), { drops: 0, quarantined: 0 }).ok, false);
});

t.test('compacted completeness: duplicates and deleted records', async (t) => {
  t.equal(checkCompactedCompleteness(truth, counts({ posts: [3, 3], likes: [3, 3], deletes: [3, 3] })).ok, true);
  const dup = checkCompactedCompleteness(truth, counts({ posts: [4, 3], likes: [3, 3], deletes: [3, 3] }));
  t.equal(dup.ok, false);
  t.equal(dup.summary, 'posts: 1 duplicate rows after compaction');
  const kept = checkCompactedCompleteness(truth, counts({ posts: [5, 5], likes: [3, 3], deletes: [3, 3] }));
  t.same(kept.details, ['posts: 5 rows after compaction, expected 3 (truth 5 minus deleted records)', 'posts: 5, truth posts_after_deletes 3']);
  const q = checkCompactedCompleteness(truth, counts({ posts: [3, 3], likes: [2, 2], deletes: [3, 3] }), { likes: 1 });
  t.equal(q.ok, true, 'a quarantined like is not expected in Parquet');
  t.same(checkCompactedCompleteness(truth, counts({ posts: [3, 3], likes: [3, 3], deletes: [3, 3] }), { likes: 1 }).details, [
    'likes: 3 rows after compaction, expected 2 (truth 4 minus deleted records and 1 quarantined)',
  ]);
});

t.test('memory: bounded versus growing, zero samples ignored', async (t) => {
  t.equal(checkMemory([{ name: 'a', values: [100, 120, 0, 110, 130, 125] }]).ok, true);
  const grow = checkMemory([{ name: 'a', values: [100, 110, 120, 300, 400, 500] }]);
  t.equal(grow.ok, false);
  t.equal(grow.summary, 'a: max 120 MB in the first half, 500 MB in the second (bound 244 MB) GROWING');
});

t.test('percentile, ticks and the SVG chart', async (t) => {
  t.equal(percentile([5, 1, 4, 2, 3], 50), 3);
  t.equal(percentile([5, 1, 4, 2, 3], 95), 5);
  t.ok(Number.isNaN(percentile([], 50)));
  t.same(niceTicks(0, 97), [0, 20, 40, 60, 80]);
  const svg = lineChart([{ name: 'x<y', points: [[0, 1], [1, 3], [2, Number.NaN], [3, 2]] }], { title: 'T & t' });
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.match(svg, /<path d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+L[\d.]+,[\d.]+"/, 'three finite points, NaN skipped');
  t.match(svg, />T &amp; t</);
  t.match(svg, />x&lt;y</);
});
