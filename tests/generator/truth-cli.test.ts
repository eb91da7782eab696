import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeEventsFile } from '../../local-tools/generator/write.js';
import { TruthCounter, type Truth } from '../../local-tools/generator/truth.js';
import { PLANTED_PHRASES } from '../../local-tools/generator/text-model.js';
import { parseJetstreamEvent, type PostRecord } from '../../shared/jetstream/index.js';

function recount(text: string): { truth: Truth; posts: Map<string, string> } {
  const counter = new TruthCounter();
  const posts = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const r = parseJetstreamEvent(line);
    if (!r.ok) throw new Error(r.reason);
    counter.addEvent(r.event);
    const e = r.event;
    if (e.kind === 'commit' && e.commit.operation === 'create' && e.commit.collection === 'app.bsky.feed.post') {
      posts.set(`at://${e.did}/app.bsky.feed.post/${e.commit.rkey}`, (e.commit.record as unknown as PostRecord).text);
    }
  }
  return { truth: counter.result(), posts };
}

t.test('--truth counts equal a recount of the written file; planted posts are exact', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'events.jsonl');
  const truthOut = path.join(dir, 'truth.json');
  // 2.5 hours at 40 events/s, so several UTC hours are counted.
  const result = await writeEventsFile({ events: 12_000, out, truthOut, seed: 'truth', rate: 1.3, start: '2026-03-01T22:30:00Z' });
  const truth = JSON.parse(readFileSync(truthOut, 'utf8')) as Truth;
  const text = readFileSync(out, 'utf8');
  t.equal(result.bytes, Buffer.byteLength(text));
  const { truth: again, posts } = recount(text);
  t.equal(truth.total, 12_000);
  for (const key of ['total', 'first_time_us', 'last_time_us', 'by_kind', 'by_operation', 'by_collection', 'by_table', 'posts_after_deletes', 'by_hour'] as const) {
    t.same(truth[key], again[key], key);
  }
  const deletedPostCount = text.split('\n').filter((l) => l.includes('"operation":"delete","collection":"app.bsky.feed.post"')).length;
  t.ok(deletedPostCount > 0);
  t.equal(truth.posts_after_deletes, posts.size - deletedPostCount);
  t.ok(Object.keys(truth.by_hour).length >= 3, `hours: ${Object.keys(truth.by_hour).join(' ')}`);
  t.same(Object.keys(truth.by_hour)[0], '2026-03-01T22');
  const tables = truth.by_table;
  t.equal(Object.values(tables).reduce((s, n) => s + n, 0), 12_000, 'every event lands in exactly one table');
  for (const name of ['posts', 'likes', 'reposts', 'follows', 'blocks', 'records', 'deletes'] as const) t.ok(tables[name] > 0, `${name} > 0`);
  t.equal(truth.generator.seed, 'truth');

  t.ok(truth.planted.length >= 3, `${truth.planted.length} planted posts`);
  for (const p of truth.planted) {
    t.equal(posts.get(p.uri), p.text, `planted ${p.id} is in the file with its text`);
    t.ok(p.text.includes(p.phrase), `planted ${p.id} contains its phrase`);
  }
  for (const { phrase } of PLANTED_PHRASES) {
    const expected = truth.planted.filter((p) => p.phrase === phrase).map((p) => p.uri).sort();
    const found = [...posts].filter(([, text]) => text.toLowerCase().includes(phrase.toLowerCase())).map(([uri]) => uri).sort();
    t.same(found, expected, `only planted posts contain "${phrase}"`);
  }
  const deletedPosts = text.split('\n').filter((l) => l.includes('"operation":"delete","collection":"app.bsky.feed.post"'));
  for (const p of truth.planted) t.notOk(deletedPosts.some((l) => l.includes(p.uri.split('/').pop() as string)), 'planted posts are never deleted');
});

t.test('the CLI writes a gzip file zlib can read, with truth; bad arguments exit 2 with a message', async (t) => {
  const dir = t.testdir();
  const out = path.join(dir, 'cli.jsonl.gz');
  const truthOut = path.join(dir, 'cli-truth.json');
  const tsx = path.resolve('node_modules/.bin/tsx');
  const run = spawnSync(tsx, ['local-tools/generator/main.ts', '--events', '3000', '--out', out, '--seed', '7', '--truth', truthOut, '--quiet'], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /wrote 3,000 events to .*cli\.jsonl\.gz/);
  const lines = gunzipSync(readFileSync(out)).toString('utf8').split('\n').filter(Boolean);
  t.equal(lines.length, 3000);
  t.ok(lines.every((l) => parseJetstreamEvent(l).ok));
  const truth = JSON.parse(readFileSync(truthOut, 'utf8')) as Truth;
  t.equal(truth.total, 3000);
  t.same(truth.by_table, recount(lines.join('\n')).truth.by_table);

  const bad = spawnSync(tsx, ['local-tools/generator/main.ts', '--events', 'lots', '--out', out], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--events: expected an integer/);
  const both = spawnSync(tsx, ['local-tools/generator/main.ts', '--events', '5', '--volume', 'real', '--out', out], { encoding: 'utf8' });
  t.equal(both.status, 2);
  t.match(both.stderr, /either --events or --volume/);
});
