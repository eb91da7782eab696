/** Bad input never blocks: 1% malformed lines of several kinds go to quarantine, the rest is written. */
import { readFile } from 'node:fs/promises';
import tap from 'tap';
import { runFlush } from '../../shared/flush/index.js';
import { fixtureLines, makeFlushEnv, readTable, xaddLines } from './helpers.js';

/** `n` valid events: the real fixture repeated with unique rkeys / seqs / times. */
function validEvents(n: number): string[] {
  const base = fixtureLines('jetstream-real-152.jsonl').map((l) => JSON.parse(l) as Record<string, any>);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = structuredClone(base[i % base.length]!);
    e.time_us = 1783175888000000 + i;
    if (e.commit) e.commit.rkey = `${e.commit.rkey}x${i}`;
    out.push(JSON.stringify(e));
  }
  return out;
}

tap.test('1% malformed batch: every valid event in Parquet, every bad line quarantined with a reason', async (t) => {
  const env = await makeFlushEnv(t);
  const valid = validEvents(1500);
  const like = JSON.parse(valid[0]!) as Record<string, any>;
  const bad: [string | null, string][] = [
    ['{"did":"did:plc:x","time_us":17831758', 'invalid_json'],
    ['this is not json', 'invalid_json'],
    ['[1,2,3]', 'not_an_object'],
    [JSON.stringify({ ...like, did: undefined }), 'bad_did'],
    [JSON.stringify({ ...like, time_us: '1783175888000000' }), 'bad_time_us'],
    [JSON.stringify({ ...like, commit: { ...like.commit, collection: undefined } }), 'bad_collection'],
    [JSON.stringify({ ...like, kind: 'mystery' }), 'unknown_kind'],
    [JSON.stringify({ ...like, time_us: 42 }), 'time_us_out_of_range'],
    [null, 'missing_field_e'],
    ['{"did":"did:plc:x",\n"time_us":1783175888000000,\x1e}', 'invalid_json'],
    ['', 'invalid_json'],
    ['"just a string"', 'not_an_object'],
    [JSON.stringify({ ...like, commit: { ...like.commit, operation: 'upsert' } }), 'bad_operation'],
    [JSON.stringify({ ...like, commit: { ...like.commit, record: 'text' } }), 'bad_record'],
    [JSON.stringify({ did: like.did, time_us: like.time_us, kind: 'commit' }), 'bad_commit'],
    [JSON.stringify({ did: like.did, time_us: like.time_us, kind: 'identity' }), 'bad_identity'],
  ];
  // Valid despite an odd record: createdAt that is not a date (created_at NULL), pretty-printed JSON.
  const oddButValid = [
    JSON.stringify({ ...like, commit: { ...like.commit, rkey: 'odd1', record: { ...like.commit.record, createdAt: 'not a date' } } }),
    JSON.stringify({ ...like, commit: { ...like.commit, rkey: 'odd2' } }, null, 2),
  ];
  const lines: (string | null)[] = [...valid, ...oddButValid];
  // Spread the bad lines through the batch.
  bad.forEach(([line], i) => lines.splice(37 + i * 91, 0, line));
  const ids = await xaddLines(env.redis, env.ctx.keys.stream, lines);
  const badUtf8 = await env.redis.xadd(env.ctx.keys.stream, '*', 'e', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));

  const s = await runFlush(env.ctx);
  t.equal(s.events_read, 1519);
  t.equal(s.quarantined, bad.length + 1);
  const expectedReasons: Record<string, number> = { invalid_utf8: 1 };
  for (const [, r] of bad) expectedReasons[r] = (expectedReasons[r] ?? 0) + 1;
  t.same(s.quarantined_by_reason, expectedReasons);
  const total = Object.values(s.rows).reduce((a, b) => a + b, 0);
  t.equal(total, 1502, 'every valid event (odd ones included) is a row');
  t.equal(await env.redis.xlen(env.ctx.keys.stream), 0, 'bad lines do not block the stream');

  t.equal(s.quarantine_files.length, 1);
  const q = (await readFile(s.quarantine_files[0]!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(q.length, bad.length + 1);
  t.match(q.find((r) => r.stream_id === badUtf8), { reason: 'invalid_utf8', raw: '{"\ufffd\ufffd"}', raw_base64: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64') });
  const badIds = new Set<string>([badUtf8!]);
  lines.forEach((l, i) => {
    if (bad.some(([b]) => b === l)) badIds.add(ids[i]!);
  });
  t.same(new Set(q.map((r) => r.stream_id)), badIds, 'quarantine names the stream entries');
  for (const r of q.filter((x) => x.reason !== 'invalid_utf8')) {
    const [line, reason] = bad.find(([b]) => b === r.raw)!;
    t.equal(r.reason, reason, `reason for ${String(line).slice(0, 30)}`);
  }

  const odd = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'likes', "split_part(uri, '/', 5) AS rkey, created_at", 'rkey');
  t.same(odd.filter((r) => String(r.rkey).startsWith('odd')), [
    { rkey: 'odd1', created_at: null },
    { rkey: 'odd2', created_at: '2026-07-04 14:38:08.999+00' },
  ]);
});

tap.test('long lines: a 3 MB post is written, a line over 8 MiB is quarantined with its bytes', async (t) => {
  const env = await makeFlushEnv(t);
  const like = JSON.parse(fixtureLines('jetstream-golden-10.jsonl')[1]!) as Record<string, any>;
  const big = JSON.stringify({ ...like, commit: { ...like.commit, record: { ...like.commit.record, text: 'é'.repeat(1_500_000) } } });
  const huge = 'x'.repeat(8 * 1024 * 1024 + 1);
  const [bigId, hugeId] = await xaddLines(env.redis, env.ctx.keys.stream, [big, huge]);
  const s = await runFlush(env.ctx);
  t.match(s, { events_read: 2, quarantined: 1, quarantined_by_reason: { invalid_json: 1 } });
  t.equal(s.rows.posts, 1);
  const [post] = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'posts', 'length(text) AS n');
  t.same(post, { n: '1500000' });
  const q = JSON.parse((await readFile(s.quarantine_files[0]!, 'utf8')).trim()) as Record<string, unknown>;
  t.match(q, { stream_id: hugeId, reason: 'invalid_json', detail: /longer than/ });
  t.equal((q.raw as string).length, huge.length);
  t.not(bigId, hugeId);
});
