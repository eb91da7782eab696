/**
 * export (CSV round-trip, NDJSON, row limit headers) and counts (exact buckets) over HTTP.
 */
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import t, { type Test } from 'tap';
import { apiMetrics } from '../../shared/api/metrics.js';
import { createQueryApi } from '../../shared/api/service.js';
import { createContext } from '../../shared/context.js';
import { createLogger } from '../../shared/log.js';
import { TEMP_PREFIX } from '../../shared/temp-sweep.js';
import { makeTestEnv } from '../helpers/env.js';
import { POSTS, uri, writeDataset } from './dataset.js';
import { get, getNdjson, serve } from './fixture.js';

/** A small RFC 4180 parser: quoted fields with doubled quotes, commas and CRLF/LF inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '"' ) {
      throw new Error(`stray quote at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length) throw new Error('last record not terminated by CRLF');
  return rows;
}

const ALL_NEWEST = ['p11', 'p10', 'p8', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p9'];

/** Checks the whole dataset exported as CSV (newest first); returns the header row. */
function checkFullCsv(t: Test, text: string): string[] {
  const rows = parseCsv(text);
  const header = rows[0]!;
  t.same(header.slice(0, 4), ['uri', 'cid', 'author_did', 'author_handle']);
  t.ok(header.includes('toxicity_score'));
  const records = rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
  t.same(records.map((r) => r.uri), ALL_NEWEST.map(uri));
  for (const r of records) {
    const key = r.uri!.split('/').pop()!;
    t.equal(r.text, POSTS[key]!.text, `${key} text round-trips`);
  }
  const p11 = records.find((r) => r.uri === uri('p11'))!;
  t.equal(p11.text, 'She said "hi", then\nleft,\r\nok "quoted"');
  const p1 = records.find((r) => r.uri === uri('p1'))!;
  t.equal(p1.langs, '["en"]');
  t.equal(p1.has_media, 'true');
  t.equal(p1.toxicity_score, '0.9');
  t.equal(p1.author_handle, 'alice.test');
  t.equal(p1.sort_at, '2025-01-10T10:05:00.000000Z');
  t.equal(p1.reply_parent_uri, '', 'NULL is an empty field');
  return header;
}

t.test('export csv: RFC 4180 round-trip, attachment, row-limit headers', async (t) => {
  const env = await makeTestEnv(t, { QUERY_INDEX_SLACK_MINUTES: '1440' });
  await writeDataset(env.cfg.storage.parquetDir);
  const fn = await serve(t, env, 'export');
  const res = await get(fn.url, {});
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/csv; charset=utf-8/);
  t.match(res.headers.get('content-disposition'), /^attachment; filename="posts-.*\.csv"$/);
  t.equal(res.headers.get('x-row-limit'), '1000');
  t.equal(res.headers.get('x-row-limit-reached'), 'false');
  const header = checkFullCsv(t, res.text);
  const filtered = parseCsv((await get(fn.url, { text: 'hello', sort: 'oldest' })).text);
  t.same(filtered.slice(1).map((r) => r[0]), ['p1', 'p2', 'p4', 'p6'].map(uri));

  const empty = await get(fn.url, { text: 'no such text anywhere' });
  t.equal(empty.status, 200);
  t.same(parseCsv(empty.text), [header], 'only the header row');
  t.equal(empty.headers.get('x-row-limit-reached'), 'false');

  const bad = await get(fn.url, { format: 'xml' });
  t.equal(bad.status, 400);
  t.same(bad.json().error.code, 'invalid_parameter');
  t.same(bad.json().error.param, 'format');
  const unknown = await get(fn.url, { username: 'nobody.test' });
  t.equal(unknown.status, 404);
  t.equal(unknown.json().error.code, 'unknown_username');
});

t.test('export ndjson and the row limit', async (t) => {
  const env = await makeTestEnv(t, { ROW_LIMIT: '3', QUERY_INDEX_SLACK_MINUTES: '1440' });
  await writeDataset(env.cfg.storage.parquetDir);
  const fn = await serve(t, env, 'export');
  const res = await get(fn.url, { format: 'ndjson' });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/x-ndjson/);
  t.equal(res.headers.get('x-row-limit'), '3');
  t.equal(res.headers.get('x-row-limit-reached'), 'true');
  const lines = res.text.split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  t.same(lines.map((l) => JSON.parse(l).uri), ALL_NEWEST.slice(0, 3).map(uri));
  const exactly = await get(fn.url, { format: 'ndjson', username: 'bob.test' });
  t.equal(exactly.headers.get('x-row-limit-reached'), 'false', '3 matches with a limit of 3: not cut');
  t.equal(exactly.text.trim().split('\n').length, 3);
});

t.test('a row limit above the search-page path: the streamed export stops at it, mid-run and across runs', async (t) => {
  // prefetchMaxRows 0 sends every limited export down the streamed path (in production, limits above
  // 100,000). Runs of 3 NDJSON candidates (four fifths of EXPORT_RUN_ROWS=4, rounded down): a limit of 4
  // ends in the second run, one of 6 at the end of a run.
  for (const limit of [4, 6, 20]) {
    const env = await makeTestEnv(t, { ROW_LIMIT: String(limit), QUERY_INDEX_SLACK_MINUTES: '1440', EXPORT_RUN_ROWS: '4' });
    await writeDataset(env.cfg.storage.parquetDir);
    const ctx = await createContext(env.cfg, 'test:export', { log: createLogger('test', { level: 'silent' }) });
    t.teardown(() => ctx.destroy());
    const api = createQueryApi({ cfg: env.cfg, duckdb: ctx.duckdb, redis: ctx.redis, keys: ctx.keys, log: ctx.log, metrics: apiMetrics(), prefetchMaxRows: 0 });
    for (const sort of ['newest', 'oldest'] as const) {
      const res = await api.exportPosts({ format: 'ndjson', sort });
      let text = '';
      for await (const chunk of res.body) text += chunk.toString();
      const all = sort === 'newest' ? ALL_NEWEST : [...ALL_NEWEST].reverse();
      t.same(text.trim().split('\n').map((l) => JSON.parse(l).uri), all.slice(0, limit).map(uri), `limit ${limit}, ${sort}: the first rows in order`);
      t.equal(res.streamed?.(), Math.min(limit, all.length));
      // 12 candidate rows (a replayed post, a deleted one): only a limit above them is known not to cut.
      t.equal(res.headers['x-row-limit-reached'], limit >= 12 ? 'false' : undefined, `limit ${limit}: X-Row-Limit-Reached`);
    }
  }
});

for (const partitionRows of ['1000000', '4', '1']) t.test(`export without the row limit streams everything, run by run (parts of ${partitionRows} rows)`, async (t) => {
  // Runs of 3 candidate rows: the 10 posts come in several runs, which must join up without a gap or a
  // repeat. Parts of 4 or 1 candidate rows: the 12 rows (a replayed post, a deleted one) are
  // deduplicated, checked against deletes and joined to scores and handles in 3 or 12 parts, with the
  // same answers.
  const env = await makeTestEnv(t, { ROW_LIMIT_ENABLED: 'false', QUERY_INDEX_SLACK_MINUTES: '1440', EXPORT_RUN_ROWS: '3', EXPORT_PARTITION_ROWS: partitionRows });
  await writeDataset(env.cfg.storage.parquetDir);
  const fn = await serve(t, env, 'export');
  const res = await get(fn.url, { format: 'ndjson', sort: 'oldest' });
  t.equal(res.headers.get('x-row-limit'), null);
  t.equal(res.headers.get('x-row-limit-reached'), null);
  t.same(res.text.trim().split('\n').map((l) => JSON.parse(l).uri), [...ALL_NEWEST].reverse().map(uri));
  const csv = parseCsv((await get(fn.url, { has_media: 'true' })).text);
  t.same(csv.slice(1).map((r) => r[0]), [uri('p6'), uri('p1')]);
  checkFullCsv(t, (await get(fn.url, {})).text);
  const scored = await getNdjson(fn.url, { feature_filters: 'toxicity_score>=0.5' });
  t.same(scored.map((r) => [r.uri, r.features.toxicity_score]), [[uri('p2'), 0.5], [uri('p1'), 0.9]], 'feature filters: scores come from the filter join');
  // Each export wrote its candidates, keys and rendered runs to files of its own in the temp folder (this process's).
  const mine = [TEMP_PREFIX.exportCandidates, TEMP_PREFIX.renderedLines].map((prefix) => `${prefix}${process.pid}-`);
  const left = (await readdir(os.tmpdir())).filter((f) => mine.some((m) => f.startsWith(m)));
  t.same(left, [], 'every export removed its temporary files');
});

for (const partitionRows of ['30000000', '3', '1']) t.test(`counts per hour and day, with a feature (passes of ${partitionRows} posts)`, async (t) => {
  // Passes of 3 or 1 posts: the 12 rows are deduplicated and checked against deletes part by part (4 or
  // 12 parts by hash of the uri), and the parts' buckets, scored counts and means add up to the same answers.
  const env = await makeTestEnv(t, { QUERY_INDEX_SLACK_MINUTES: '1440', COUNTS_PARTITION_ROWS: partitionRows });
  await writeDataset(env.cfg.storage.parquetDir);
  const fn = await serve(t, env, 'counts');
  const hour = await get(fn.url, { granularity: 'hour', start: '2025-01-10T09:00:00Z', end: '2025-01-10T14:00:00Z' });
  t.equal(hour.status, 200);
  t.same(hour.json().data, [
    { start: '2025-01-10T09:00:00.000Z', count: 0 },
    { start: '2025-01-10T10:00:00.000Z', count: 4 },
    { start: '2025-01-10T11:00:00.000Z', count: 2 },
    { start: '2025-01-10T12:00:00.000Z', count: 1 },
    { start: '2025-01-10T13:00:00.000Z', count: 2 },
  ]);
  t.equal(hour.json().meta.total, 9);

  const day = await get(fn.url, {});
  t.same(day.json().data, [
    { start: '2025-01-09T00:00:00.000Z', count: 1 },
    { start: '2025-01-10T00:00:00.000Z', count: 9 },
  ]);
  t.equal(day.json().meta.total, 10);
  t.equal(day.json().meta.granularity, 'day');

  const feat = await get(fn.url, { feature: 'toxicity_score', start: '2025-01-10', end: '2025-01-11' });
  const b = feat.json().data;
  t.equal(b.length, 1);
  t.equal(b[0].count, 9);
  t.equal(b[0].scored, 3);
  t.ok(Math.abs(b[0].mean - (0.9 + 0.5 + 0.2) / 3) < 1e-9, 'mean of the latest scores');

  const filtered = await get(fn.url, { granularity: 'hour', text: 'hello', feature_filters: 'toxicity_score>0.4' });
  t.same(filtered.json().data, [{ start: '2025-01-10T10:00:00.000Z', count: 2 }]);

  const byUser = await get(fn.url, { username: '@alice.test', granularity: 'day', start: '2025-01-09', end: '2025-01-12' });
  t.same(byUser.json().data.map((x: { count: number }) => x.count), [1, 3, 0]);

  for (const [q, code, param] of [
    [{ granularity: 'week' }, 'invalid_parameter', 'granularity'],
    [{ feature: 'nope' }, 'unknown_feature', 'feature'],
    [{ feature: 'DROP TABLE' }, 'invalid_parameter', 'feature'],
    [{ limit: '5' }, 'unknown_parameter', 'limit'],
  ] as const) {
    const res = await get(fn.url, q as Record<string, string>);
    t.equal(res.status, 400);
    t.same([res.json().error.code, res.json().error.param], [code, param]);
  }
});
