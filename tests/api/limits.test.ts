/**
 * Protection and edges: the timeout interrupts DuckDB (503 query_timeout), the scan limit refuses
 * large queries, handles unknown to identities go to HANDLE_RESOLVER_URL (cached in Redis), and
 * hostile random parameters never produce anything but 200/400/404.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { DuckDBInstance } from '@duckdb/node-api';
import { QueryScope } from '../../shared/api/runner.js';
import { compareKeys, filesAfterPosts, findKeysProgressively, nextStepHours, type PostKey } from '../../shared/api/progressive.js';
import { postsPartitionRange } from '../../shared/api/sources.js';
import { exportRuns, RUN_BUCKET_US } from '../../shared/api/export-sql.js';
import { partitionsFor } from '../../shared/api/sql.js';
import { exactPhrasePattern } from '../../shared/api/text-match.js';
import { parseIsoToMicros } from '../../shared/api/time.js';
import { toErrorResponse } from '../../shared/errors.js';
import { redisKeys } from '../../shared/redis.js';
import { makeTestEnv } from '../helpers/env.js';
import { writeDataset } from './dataset.js';
import { deleteRow, get, getNdjson, postRow, revAt, serve, uriOf, writeRows } from './fixture.js';

t.test('a query past its budget is interrupted: 503 query_timeout', async (t) => {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  t.teardown(() => db.closeSync());
  const scope = await QueryScope.open(db, 150);
  t.teardown(() => scope.close());
  const started = Date.now();
  const err = await scope.timed((conn) => conn.run('SELECT count(*) FROM range(100000000000) a')).catch((e: unknown) => e);
  t.ok(Date.now() - started < 10_000, 'stopped early');
  const { status, body } = toErrorResponse(err);
  t.equal(status, 503);
  t.equal(body.error.code, 'query_timeout');
  t.notMatch(body.error.message, /range\(|SELECT/);
  const after = await scope.timed(async (conn) => (await conn.runAndReadAll('SELECT 42 AS x')).getRows());
  t.same(after, [[42]], 'the connection is usable after the interrupt');
});

t.test("a query past DuckDB's memory limit: 503 out_of_memory, not a 500", async (t) => {
  const db = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '8MB' });
  t.teardown(() => db.closeSync());
  const scope = await QueryScope.open(db, 60_000);
  t.teardown(() => scope.close());
  // string_agg states do not spill: a million of them cannot fit in 8 MB.
  const err = await scope.timed((conn) => conn.run('SELECT count(*) FROM (SELECT i % 1000000 AS k, string_agg(i::VARCHAR) FROM range(3000000) t(i) GROUP BY k)')).catch((e: unknown) => e);
  t.match(String((err as Error).cause), /Out of Memory Error/, "DuckDB's own error is kept as the cause (for the log)");
  const { status, body } = toErrorResponse(err);
  t.equal(status, 503);
  t.equal(body.error.code, 'out_of_memory');
  t.match(body.error.message, /more memory than this function has/);
  t.notMatch(body.error.message, /allocate|MiB/, 'no engine internals in the message');
  // The same scope still answers: the failed statement left the connection usable.
  const ok = await scope.timed(async (conn) => (await conn.runAndReadAll('SELECT 41 + 1')).getRows());
  t.same(ok, [[42]]);
});

t.test('scan limit: a query over too many bytes is refused', async (t) => {
  const env = await makeTestEnv(t, { QUERY_MAX_SCAN_BYTES: '1000' });
  await writeDataset(env.cfg.storage.parquetDir);
  const fn = await serve(t, env, 'search');
  const res = await get(fn.url, { text: 'hello' });
  t.equal(res.status, 400);
  t.equal(res.json().error.code, 'query_too_large');
  t.equal(res.json().error.param, 'start');
  const narrow = await get(fn.url, { start: '2030-01-01' });
  t.equal(narrow.status, 200, 'a range with no partitions reads nothing');
  t.same(narrow.json().data, []);
});

t.test('handles unknown to identities resolve through HANDLE_RESOLVER_URL, cached in Redis', async (t) => {
  let calls = 0;
  const resolver = http.createServer((req, res) => {
    calls++;
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/xrpc/com.atproto.identity.resolveHandle') {
      res.writeHead(404).end();
      return;
    }
    if (u.searchParams.get('handle') === 'carol.example') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ did: 'did:plc:carol' }));
    } else {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'InvalidRequest', message: 'Unable to resolve handle' }));
    }
  });
  await new Promise<void>((resolve) => resolver.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => resolver.close(() => resolve())));
  const env = await makeTestEnv(t, { HANDLE_RESOLVER_URL: `http://127.0.0.1:${(resolver.address() as AddressInfo).port}`, HANDLE_CACHE_TTL_S: '600' });
  await writeDataset(env.cfg.storage.parquetDir);
  const fn = await serve(t, env, 'search');

  const keys = async (q: Record<string, string>) => (await get(fn.url, q)).json().data.map((d: { uri: string }) => d.uri.split('/').pop());
  t.same(await keys({ username: '@Carol.Example' }), ['p11', 'p6', 'p5']);
  t.equal(calls, 1);
  const key = redisKeys(env.prefix).handleCache('carol.example');
  t.equal(await env.redis.get(key), 'did:plc:carol');
  const ttl = await env.redis.ttl(key);
  t.ok(ttl > 0 && ttl <= 600, `cached with a TTL (${ttl})`);
  t.same(await keys({ username: 'carol.example' }), ['p11', 'p6', 'p5']);
  t.equal(calls, 1, 'second lookup served from the cache');
  t.same(await keys({ username: 'alice.test' }), ['p10', 'p2', 'p1', 'p9'], 'identities first, no resolver call');
  t.equal(calls, 1);
  const unknown = await get(fn.url, { username: 'nobody.example' });
  t.equal(unknown.status, 404);
  t.equal(unknown.json().error.code, 'unknown_username');
  // The documented limit of partition pruning: with the default 60-minute slack, a post back-dated by
  // 13 hours is not found by a range ending before its indexing hour (it is found without `end`).
  t.same(await keys({ start: '2025-01-09', end: '2025-01-10' }), []);
  t.same(await keys({ start: '2025-01-09', username: 'alice.test', sort: 'oldest', limit: '1' }), ['p9']);
});

t.test('pure policies', async (t) => {
  t.equal(parseIsoToMicros('2025-01-31'), 1738281600000000n);
  t.equal(parseIsoToMicros('2025-01-31T00:00:00.000001Z'), 1738281600000001n);
  t.equal(parseIsoToMicros('2025-01-31T02:00+02:00'), 1738281600000000n);
  for (const bad of ['2025-02-29', '2025-1-1', '2025-01-31T24:00', 'now', '', '1969-12-31', '2025-01-31T10:00+25:00']) {
    t.equal(parseIsoToMicros(bad), undefined, `${bad} rejected`);
  }
  const h = 3_600_000_000n;
  t.same(postsPartitionRange({ startUs: 10n * h, endUs: 20n * h }, 60), { fromUs: 10n * h, toUs: 21n * h }, 'end gets the slack, start none');
  t.same(postsPartitionRange({}, 60, { sortAtUs: 5n * h, uri: 'x', sort: 'newest' }), { fromUs: undefined, toUs: 6n * h });
  t.same(postsPartitionRange({ startUs: 1n }, 0, { sortAtUs: 5n * h, uri: 'x', sort: 'oldest' }), { fromUs: 5n * h, toUs: undefined });
  t.equal(exactPhrasePattern('a.b'), '(?:^|[^\\p{L}\\p{N}\\p{M}_])a\\.b(?:[^\\p{L}\\p{N}\\p{M}_]|$)');
  t.equal(exactPhrasePattern('#tag!'), '\\#tag!', 'punctuation at the edges needs no boundary');
});

for (const sort of ['newest', 'oldest'] as const) {
  t.test(`${sort}-first hour steps give exactly the brute-force page (back-dated posts included)`, async (t) => {
    const HOUR = 3_600_000;
    const T0 = Date.UTC(2026, 6, 1);
    const fileOf = (h: number) => {
      const d = new Date(T0 + h * HOUR);
      const p = (n: number) => String(n).padStart(2, '0');
      return `/pq/year=${d.getUTCFullYear()}/month=${p(d.getUTCMonth() + 1)}/day=${p(d.getUTCDate())}/hour=${p(d.getUTCHours())}/posts.parquet`;
    };
    // `deleted`: rows the steps drop (as deletes do) but the oldest-first probe still counts.
    const post = fc.record({ hour: fc.nat({ max: 47 }), offsetMin: fc.nat({ max: 59 }), backMin: fc.oneof(fc.constant(0), fc.nat({ max: 3000 })), n: fc.nat({ max: 1_000_000 }), deleted: fc.nat({ max: 4 }).map((x) => x === 0) });
    let boundedSteps = 0;
    let fewerFiles = 0;
    let fellBack = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(post, { maxLength: 120 }), fc.integer({ min: 1, max: 30 }), async (posts, limit) => {
        const rows = posts.map((p, i) => {
          const indexedMs = T0 + p.hour * HOUR + p.offsetMin * 60_000;
          return { file: fileOf(p.hour), deleted: p.deleted, key: { uri: `at://did:plc:x/app.bsky.feed.post/${p.n}-${i}`, t: BigInt(indexedMs - p.backMin * 60_000) * 1000n, ia: BigInt(indexedMs) * 1000n, file: fileOf(p.hour), row: BigInt(i) } };
        });
        const files = [...new Set(rows.map((r) => r.file))];
        let scannedUnbounded = 0;
        const boundedBefore = boundedSteps;
        const probe = async (fs: string[], n: number) => rows.filter((r) => fs.includes(r.file)).map((r) => r.key.t).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[n - 1];
        const got = await findKeysProgressively({ posts: files, deletes: [], postFeatures: [], identities: [] }, sort, limit, async (fs, scan, upToUs) => {
          if (upToUs !== undefined) boundedSteps++;
          else scannedUnbounded += fs.length;
          const inFiles = rows
            .filter((r) => !r.deleted && fs.includes(r.file) && (upToUs === undefined || r.key.t <= upToUs))
            .map((r) => r.key)
            .sort((a, b) => compareKeys(a, b, sort));
          return { keys: inFiles.slice(0, Math.min(scan, limit)), nTop: Math.min(scan, inFiles.length) };
        }, probe);
        if (scannedUnbounded < files.length) fewerFiles++;
        if (boundedSteps > boundedBefore && scannedUnbounded > 0) fellBack++;
        const want: PostKey[] = rows.filter((r) => !r.deleted).map((r) => r.key).sort((a, b) => compareKeys(a, b, sort)).slice(0, limit);
        if (JSON.stringify(got.map((k) => k.uri)) !== JSON.stringify(want.map((k) => k.uri))) throw new Error('page differs from brute force');
        return true;
      }),
      { numRuns: 300, seed: 7 },
    );
    t.pass('300 random hour layouts');
    // The steps must also save work: some layouts answered without reading every hour in full.
    if (sort === 'newest') {
      t.ok(fewerFiles > 20, `${fewerFiles} of 300 layouts read fewer hours in full than they have`);
      t.equal(boundedSteps, 0, 'newest first never needs a bounded step');
    } else {
      // Both paths taken: answered by the bounded step, and redone unbounded when deletes left too few keys.
      t.ok(fewerFiles > 5, `${fewerFiles} of 300 layouts answered by the step bounded by the probe`);
      t.ok(fellBack > 0, `${fellBack} layouts redone without the bound`);
    }
  });
}

t.test('deletes and scores of a step: from the oldest posts hour minus one hour on', async (t) => {
  const at = (d: string, h: string, name: string) => `/p/year=2026/month=07/day=${d}/hour=${h}/${name}`;
  const scores = [at('01', '08', 'post_features-a.parquet'), at('01', '09', 'post_features-b.parquet'), at('01', '10', 'post_features-c.parquet'), at('02', '00', 'post_features-d.parquet'), '/elsewhere/post_features.parquet'];
  t.same(
    filesAfterPosts(scores, [at('01', '12', 'posts.parquet'), at('01', '10', 'posts.parquet')]),
    [at('01', '09', 'post_features-b.parquet'), at('01', '10', 'post_features-c.parquet'), at('02', '00', 'post_features-d.parquet'), '/elsewhere/post_features.parquet'],
    'hours 09 (the margin) and later, and the file outside the layout',
  );
  t.same(filesAfterPosts(scores, [at('01', '12', 'posts.parquet'), '/elsewhere/posts.parquet']), scores, 'a posts file of unknown hour: every file');
  t.same(filesAfterPosts(scores, [at('02', '02', 'posts.parquet')]), [at('02', '00', 'post_features-d.parquet'), '/elsewhere/post_features.parquet'].slice(1), 'nothing from two hours before');
});

t.test('a delete stamped by a clock up to an hour behind still hides its post from a start-bounded query', async (t) => {
  // Posts and deletes carry Jetstream's time_us; after a fail-over to another instance the delete can be
  // stamped before its post, in the previous hour partition, while the post's sort_at is inside the range.
  // The commit revisions, from the PDS, still order them: the delete was committed at 10:45.
  const env = await makeTestEnv(t, {});
  const dir = env.cfg.storage.parquetDir;
  const dave = 'did:plc:dave';
  await writeRows(dir, 'posts', [
    postRow({ did: dave, rkey: 'q1', text: 'gone later', at: '2025-03-01T10:30:00Z' }),
    postRow({ did: dave, rkey: 'q2', text: 'still here', at: '2025-03-01T10:40:00Z' }),
  ]);
  await writeRows(dir, 'deletes', [deleteRow(dave, 'q1', '2025-03-01T09:50:00Z', revAt('2025-03-01T10:45:00Z'))]);
  const range = { start: '2025-03-01T10:00:00Z', end: '2025-03-01T11:00:00Z' };
  const search = await serve(t, env, 'search');
  const exp = await serve(t, env, 'export');
  const counts = await serve(t, env, 'counts');
  const found = await get(search.url, range);
  t.same(found.json().data.map((d: { uri: string }) => d.uri), [uriOf(dave, 'q2')], 'search');
  const csv = await get(exp.url, { ...range, format: 'ndjson' });
  t.same(csv.text.trim().split('\n').map((l) => JSON.parse(l).uri), [uriOf(dave, 'q2')], 'export');
  const total = await get(counts.url, { ...range, granularity: 'hour' });
  t.same(total.json().data, [{ start: '2025-03-01T10:00:00.000Z', count: 1 }], 'counts');
  t.equal(total.json().meta.total, 1, 'counts total');
});

t.test('oldest first over several hours: back-dated posts in later hours, and deletes under the probe bound', async (t) => {
  // The probe of the 10:00 hour bounds the step at a2's 10:10; b1 and c1 sit in later hours with an
  // earlier sort_at. With a1, a2 and c1 deleted the bounded step finds one live post only, so the step
  // is redone without the bound. Every page (limit 2, by cursor) against the order written out by hand.
  const ann = 'did:plc:ann';
  const posts = [
    postRow({ did: ann, rkey: 'a1', text: 'a1', at: '2025-03-01T10:05:00Z' }),
    postRow({ did: ann, rkey: 'a2', text: 'a2', at: '2025-03-01T10:10:00Z' }),
    postRow({ did: ann, rkey: 'a3', text: 'a3', at: '2025-03-01T10:20:00Z' }),
    postRow({ did: ann, rkey: 'b1', text: 'b1', at: '2025-03-01T09:00:00Z', indexedAt: '2025-03-01T11:30:00Z' }),
    postRow({ did: ann, rkey: 'b2', text: 'b2', at: '2025-03-01T11:10:00Z' }),
    postRow({ did: ann, rkey: 'c1', text: 'c1', at: '2025-03-01T10:07:00Z', indexedAt: '2025-03-01T12:10:00Z' }),
    postRow({ did: ann, rkey: 'c2', text: 'c2', at: '2025-03-01T12:20:00Z' }),
  ];
  const cases = [
    { name: 'no deletes', deleted: [] as string[], want: ['b1', 'a1', 'c1', 'a2', 'a3', 'b2', 'c2'] },
    { name: 'a1, a2, c1 deleted', deleted: ['a1', 'a2', 'c1'], want: ['b1', 'a3', 'b2', 'c2'] },
  ];
  for (const c of cases) {
    const env = await makeTestEnv(t, {});
    const dir = env.cfg.storage.parquetDir;
    await writeRows(dir, 'posts', posts);
    if (c.deleted.length) await writeRows(dir, 'deletes', c.deleted.map((r) => deleteRow(ann, r, '2025-03-01T12:40:00Z')));
    const search = await serve(t, env, 'search');
    for (const params of [{}, { start: '2025-03-01T09:00:00Z' }] as Record<string, string>[]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const res = (await get(search.url, { ...params, sort: 'oldest', limit: '2', ...(cursor ? { cursor } : {}) })).json();
        seen.push(...res.data.map((d: { uri: string }) => d.uri));
        cursor = res.meta.next_cursor ?? undefined;
        if (!cursor) break;
      }
      t.same(seen, c.want.map((r) => uriOf(ann, r)), `${c.name}, ${JSON.stringify(params)}: every page in order`);
    }
  }
});

/** An env whose unbounded exports run in parts and runs of `rows` candidates (1: each version alone in its part and run). */
function exportSizedEnv(t: Test, rows: string) {
  return makeTestEnv(t, { ROW_LIMIT_ENABLED: 'false', EXPORT_PARTITION_ROWS: rows, EXPORT_RUN_ROWS: rows });
}

t.test('a post deleted and re-created under the same uri: its new version is live, its old one is not', async (t) => {
  // r1 posted at 10:10, deleted at 10:20, re-created (same rkey) at 10:30 — the delete follows the first
  // revision only. Another post, deleted once, stays hidden. Every function, the export also in
  // parts and runs of one candidate row (each version alone in its part and its run).
  for (const partitionRows of ['250000', '1']) {
    const env = await exportSizedEnv(t, partitionRows);
    const dir = env.cfg.storage.parquetDir;
    const erin = 'did:plc:erin';
    await writeRows(dir, 'posts', [
      postRow({ did: erin, rkey: 'r1', text: 'first take', at: '2025-03-02T10:10:00Z' }),
      postRow({ did: erin, rkey: 'r2', text: 'gone for good', at: '2025-03-02T10:12:00Z' }),
    ]);
    await writeRows(dir, 'deletes', [deleteRow(erin, 'r1', '2025-03-02T10:20:00Z'), deleteRow(erin, 'r2', '2025-03-02T10:21:00Z')]);
    await writeRows(dir, 'posts', [postRow({ did: erin, rkey: 'r1', text: 'second take', at: '2025-03-02T10:30:00Z' })]);
    const search = await serve(t, env, 'search');
    const exp = await serve(t, env, 'export');
    const counts = await serve(t, env, 'counts');
    const found = (await get(search.url, { username: erin })).json().data;
    t.same(found.map((d: { uri: string; text: string }) => [d.uri, d.text]), [[uriOf(erin, 'r1'), 'second take']], `search (${partitionRows})`);
    const lines = await getNdjson(exp.url, { username: erin });
    t.same(lines.map((d: { uri: string; text: string }) => [d.uri, d.text]), [[uriOf(erin, 'r1'), 'second take']], `export (${partitionRows})`);
    const total = (await get(counts.url, { username: erin, granularity: 'hour' })).json();
    t.same([total.data, total.meta.total], [[{ start: '2025-03-02T10:00:00.000Z', count: 1 }], 1], `counts (${partitionRows})`);
  }
});

t.test('an edited post whose versions have different sort_at: one row, the latest, wherever the runs cut', async (t) => {
  // r3 is created at 10:40, then edited with its createdAt moved to 10:50 (indexed 11:05): the versions
  // fall in different minutes, so with runs of one row each is in a run of its own. r4 sits between them.
  for (const rows of ['40000', '1']) {
    const env = await exportSizedEnv(t, rows);
    const dir = env.cfg.storage.parquetDir;
    const erin = 'did:plc:erin';
    await writeRows(dir, 'posts', [
      postRow({ did: erin, rkey: 'r3', text: 'draft', at: '2025-03-02T10:40:00Z' }),
      postRow({ did: erin, rkey: 'r4', text: 'between', at: '2025-03-02T10:45:00Z' }),
    ]);
    await writeRows(dir, 'posts', [postRow({ did: erin, rkey: 'r3', text: 'edited', at: '2025-03-02T10:50:00Z', indexedAt: '2025-03-02T11:05:00Z' })]);
    const search = await serve(t, env, 'search');
    const exp = await serve(t, env, 'export');
    const want = [[uriOf(erin, 'r4'), 'between', '2025-03-02T10:45:00.000000Z'], [uriOf(erin, 'r3'), 'edited', '2025-03-02T10:50:00.000000Z']];
    const pick = (d: { uri: string; text: string; sort_at: string }) => [d.uri, d.text, d.sort_at];
    t.same((await get(search.url, { username: erin, sort: 'oldest' })).json().data.map(pick), want, `search (${rows})`);
    for (const sort of ['oldest', 'newest']) {
      const lines = await getNdjson(exp.url, { username: erin, sort });
      t.same(lines.map(pick), sort === 'oldest' ? want : [...want].reverse(), `export ${sort} (${rows})`);
    }
  }
});

t.test('export runs: consecutive minutes of at most EXPORT_RUN_ROWS candidates, in export order, with their files', async (t) => {
  const m = (minute: number) => BigInt(minute) * BigInt(RUN_BUCKET_US);
  const minutes = [
    { m: 10, fh: 1n, n: 3 },
    { m: 12, fh: 1n, n: 2 },
    { m: 11, fh: 1n, n: 2 },
    { m: 11, fh: 2n, n: 2 },
    { m: 13, fh: 2n, n: 9 },
    { m: 14, fh: 3n, n: 1 },
  ];
  t.same(exportRuns(minutes, 'oldest', 6), [
    { fromUs: m(10), toUs: m(11), rows: 3, fileHashes: [1n] },
    { fromUs: m(11), toUs: m(13), rows: 6, fileHashes: [1n, 2n] },
    { fromUs: m(13), toUs: m(14), rows: 9, fileHashes: [2n] },
    { fromUs: m(14), toUs: m(15), rows: 1, fileHashes: [3n] },
  ], 'a minute above the bound is a run alone; a minute in two files brings both');
  t.same(exportRuns(minutes, 'newest', 6), [
    { fromUs: m(14), toUs: m(15), rows: 1, fileHashes: [3n] },
    { fromUs: m(13), toUs: m(14), rows: 9, fileHashes: [2n] },
    { fromUs: m(11), toUs: m(13), rows: 6, fileHashes: [1n, 2n] },
    { fromUs: m(10), toUs: m(11), rows: 3, fileHashes: [1n] },
  ], 'newest first');
  t.same(exportRuns(minutes, 'newest', 100), [{ fromUs: m(10), toUs: m(15), rows: 19, fileHashes: [3n, 2n, 1n] }], 'all in one run');
  t.same(exportRuns([], 'newest', 6), [], 'nothing to run');
  t.equal(partitionsFor(0, 1_000_000), 1);
  t.equal(partitionsFor(2_000_001, 1_000_000), 3);
});

t.test('step sizes: at least double, or what the hit rate says the page still needs', async (t) => {
  t.equal(nextStepHours(1, 1, 0, 50), 4, 'no hit in the first hour: four hours next');
  t.equal(nextStepHours(4, 5, 0, 50), 16, 'still no hit: quadruple again');
  t.equal(nextStepHours(1, 1, 10, 40), 6, '10 hits an hour, 40 missing: 4 hours x 1.5');
  t.equal(nextStepHours(1, 1, 45, 5), 2, 'nearly full: the doubling floor');
  t.equal(nextStepHours(4, 7, 700, 0), 8, 'page full but not yet certain: double');
});

t.test('hostile random parameters: only 200, 400 or 404, never 500', async (t) => {
  const env = await makeTestEnv(t, {});
  await writeDataset(env.cfg.storage.parquetDir);
  const fns = await Promise.all((['search', 'export', 'counts'] as const).map((n) => serve(t, env, n)));
  const names = ['text', 'exact', 'username', 'start', 'end', 'lang', 'hashtag', 'has_media', 'is_reply', 'feature_filters', 'limit', 'cursor', 'sort', 'format', 'granularity', 'feature', 'x'];
  const hostile = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom("'; DROP TABLE posts; --", '%', '_', '\\', '\u0000', '"', '$1', '2025-01-01', 'true', '-1', '1e999', 'toxicity_score>=NaN', '@', 'did:plc:', '../../etc/passwd', 'x'.repeat(3000)),
  );
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 2 }), fc.dictionary(fc.constantFrom(...names), hostile, { maxKeys: 4 }), async (i, query) => {
      const res = await get(fns[i]!.url, query);
      seen.add(res.status);
      if (![200, 400, 404].includes(res.status)) throw new Error(`${res.status} for ${JSON.stringify(query)}: ${res.text.slice(0, 200)}`);
      if (res.status !== 200) {
        const body = res.json();
        if (typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string') throw new Error('error body shape');
      }
    }),
    { numRuns: 120, seed: 4242 },
  );
  t.ok(seen.has(400), `answers seen: ${[...seen].join(', ')}`);
});
