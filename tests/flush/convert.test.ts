/** The flush end to end on the golden and real fixtures: exact rows, field values, layout, ZSTD, ack. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import tap from 'tap';
import { runFlush } from '../../shared/flush/index.js';
import { sqlString } from '../../shared/duckdb.js';
import { fixtureLines, listFiles, makeFlushEnv, pendingCount, readTable, xaddLines } from './helpers.js';

tap.test('golden fixture: one row in each table, hive layout, ZSTD, stream acked and trimmed', async (t) => {
  const env = await makeFlushEnv(t);
  const { keys } = env.ctx;
  const ids = await xaddLines(env.redis, keys.stream, fixtureLines('jetstream-golden-10.jsonl'));
  const s = await runFlush(env.ctx);
  t.equal(s.status, 'ok');
  t.equal(s.events_read, 10);
  t.same(s.rows, { posts: 1, likes: 1, reposts: 1, follows: 1, blocks: 1, profiles: 1, records: 1, deletes: 1, identities: 1, accounts: 1 });
  t.equal(s.files_written, 10);
  t.equal(s.quarantined, 0);
  t.equal(s.duplicates_dropped, 0);
  t.equal(s.batches, 1);
  t.equal(s.stream_length, 0);
  t.equal(await env.redis.xlen(keys.stream), 0, 'entries deleted after the ack');
  t.equal(await pendingCount(env.redis, keys.stream, keys.flushGroup), 0, 'nothing pending');

  const batch = `${ids[0]!.replace(/^(\d+)/, (m) => m.padStart(13, '0'))}_${ids[9]!.replace(/^(\d+)/, (m) => m.padStart(13, '0'))}`;
  const files = await listFiles(env.cfg.storage.parquetDir);
  t.same(
    files,
    ['accounts', 'blocks', 'deletes', 'follows', 'identities', 'likes', 'posts', 'profiles', 'records', 'reposts'].map(
      (tb) => `year=2026/month=05/day=25/hour=14/${tb}-${batch}.parquet`,
    ),
    'one file per table, named after the batch, under the UTC hour of time_us',
  );
  t.same(s.files.slice().sort(), files);

  const conn = await env.duckdb.connect();
  t.teardown(() => conn.closeSync());
  const meta = await conn.runAndReadAll(
    `SELECT DISTINCT compression FROM parquet_metadata(${sqlString(path.join(env.cfg.storage.parquetDir, '**/*.parquet'))})`,
  );
  t.same(meta.getRowObjectsJson(), [{ compression: 'ZSTD' }], 'every column chunk is ZSTD');
  const schema = await conn.runAndReadAll(
    `SELECT name, logical_type FROM parquet_schema(${sqlString(path.join(env.cfg.storage.parquetDir, files[6]!))}) WHERE name IN ('created_at', 'sort_at')`,
  );
  for (const row of schema.getRowObjectsJson()) t.match(String(row.logical_type), /isAdjustedToUTC=1|TimestampType\(isAdjustedToUTC=1/, `${row.name} is a UTC timestamp`);

  const dir = env.cfg.storage.parquetDir;
  const [post] = await readTable(env.duckdb, dir, 'posts', '*, year, month, day, hour');
  t.match(post, {
    uri: 'at://did:plc:q235v55g5unth4zjjdpacfdr/app.bsky.feed.post/3mmoojp4cd223',
    cid: 'bafyreicl7rzkxdrm4zz2ehbx52kuk3mvfow6p3gzfys72r5grvskxoswy4',
    author_did: 'did:plc:q235v55g5unth4zjjdpacfdr',
    rkey: '3mmoojp4cd223',
    rev: '3mmoojpaqkn2z',
    operation: 'create',
    text: 'Try RSV for a good time !!',
    created_at: '2026-05-25 14:23:28.757+00',
    indexed_at: '2026-05-25 14:23:29.157119+00',
    sort_at: '2026-05-25 14:23:28.757+00',
    langs: ['en'],
    reply_root_uri: 'at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26',
    reply_parent_uri: 'at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26',
    quote_uri: null,
    embed_type: null,
    has_media: false,
    hashtags: [],
    mention_dids: [],
    link_urls: [],
    labels: [],
    year: '2026',
    month: '05',
    day: '25',
    hour: '14',
  });
  t.same(JSON.parse(String(post!.record)).text, 'Try RSV for a good time !!', 'record keeps the original JSON');

  t.same(await readTable(env.duckdb, dir, 'likes', 'uri, author_did, subject_uri, subject_cid, created_at, indexed_at'), [
    {
      uri: 'at://did:plc:mcc5yghbk7tixqryac2yxku7/app.bsky.feed.like/3mmoojp7etg2g',
      author_did: 'did:plc:mcc5yghbk7tixqryac2yxku7',
      subject_uri: 'at://did:plc:vfnmgxg2yscfliemmcxzyfyh/app.bsky.feed.post/3mmoodizfwc2j',
      subject_cid: 'bafyreiaxf7tgbfydx3465sckitq6v564thxe2wwydbi7cwxbxvgssje3em',
      created_at: '2026-05-25 14:23:28.778+00',
      indexed_at: '2026-05-25 14:23:29.132431+00',
    },
  ]);
  t.same(await readTable(env.duckdb, dir, 'follows', 'author_did, subject_did'), [
    { author_did: 'did:plc:mxwlsvdgs6tn75lq6jrr2vp7', subject_did: 'did:plc:anc6s2kher6ltrhhglxrzxsa' },
  ]);
  t.same(await readTable(env.duckdb, dir, 'blocks', 'author_did, subject_did'), [
    { author_did: 'did:plc:2lv5zdhr6aqncw46v7zgxbio', subject_did: 'did:plc:pgsrzsvisagr7wfqasmu3cgf' },
  ]);
  t.same(await readTable(env.duckdb, dir, 'deletes', 'uri, collection, author_did, rkey, rev, indexed_at'), [
    {
      uri: 'at://did:plc:3xnadku4kemqnycbweqnvgzx/org.hypercerts.claim.activity/3mmontn3gnc2e',
      collection: 'org.hypercerts.claim.activity',
      author_did: 'did:plc:3xnadku4kemqnycbweqnvgzx',
      rkey: '3mmontn3gnc2e',
      rev: '3mmoojpae7c2e',
      indexed_at: '2026-05-25 14:23:29.153272+00',
    },
  ]);
  // uri_key: the first 8 bytes of md5(uri), written by the flush (the API's deletes lookup).
  const delUri = 'at://did:plc:3xnadku4kemqnycbweqnvgzx/org.hypercerts.claim.activity/3mmontn3gnc2e';
  t.same(await readTable(env.duckdb, dir, 'deletes', 'uri_key::VARCHAR AS k'), [{ k: BigInt('0x' + createHash('md5').update(delUri).digest('hex').slice(0, 16)).toString() }]);
  t.match(await readTable(env.duckdb, dir, 'profiles'), [
    {
      author_did: 'did:plc:o6t5vwyr7ae73foww7bgye4r',
      operation: 'update',
      display_name: 'Multiversal Lokis Unit🔞',
      avatar_cid: 'bafkreieajxclqzwk2mczx7hxmoboqpuiveqlbm35gsda5xlaqfmlryu4ri',
      pinned_post_uri: 'at://did:plc:o6t5vwyr7ae73foww7bgye4r/app.bsky.feed.post/3meuab5it2s2g',
      created_at: '2026-02-14 23:48:34.991+00',
    },
  ]);
  const [profile] = await readTable(env.duckdb, dir, 'profiles', 'record');
  const golden = fixtureLines('jetstream-golden-10.jsonl').map((l) => JSON.parse(l) as { commit?: { collection: string; record: unknown } });
  t.same(JSON.parse(String(profile!.record)), golden.find((e) => e.commit?.collection === 'app.bsky.actor.profile')!.commit!.record, 'record column holds the same JSON');
  t.match(await readTable(env.duckdb, dir, 'records', 'collection, operation, author_did, created_at'), [
    { collection: 'place.stream.broadcast.origin', operation: 'update', author_did: 'did:plc:qlhxnyjaacdu5jvapiqtbgqg', created_at: null },
  ]);
  t.same(await readTable(env.duckdb, dir, 'identities', 'did, handle, seq, indexed_at'), [
    { did: 'did:plc:g4ut2w5755qxi3fe7mfs72p4', handle: null, seq: '30340180350', indexed_at: '2026-05-25 14:23:30.267528+00' },
  ]);
  t.same(await readTable(env.duckdb, dir, 'accounts', 'did, active, status, seq'), [
    { did: 'did:plc:g4ut2w5755qxi3fe7mfs72p4', active: true, status: null, seq: '30340180351' },
  ]);
});

tap.test('real fixture: counts per table and derived post fields', async (t) => {
  const env = await makeFlushEnv(t);
  await xaddLines(env.redis, env.ctx.keys.stream, fixtureLines('jetstream-real-152.jsonl'));
  const s = await runFlush(env.ctx);
  t.same(s.rows, { posts: 17, likes: 105, reposts: 15, follows: 6, blocks: 1, profiles: 0, records: 2, deletes: 4, identities: 1, accounts: 1 });
  t.equal(s.events_read, 152);
  t.equal(s.files_written, 9, 'no file for an empty table');
  const dir = env.cfg.storage.parquetDir;
  const posts = await readTable(env.duckdb, dir, 'posts', 'rkey, hashtags, link_urls, langs, embed_type, has_media, created_at, sort_at', 'rkey');
  const byKey = Object.fromEntries(posts.map((p) => [p.rkey, p]));
  t.same(byKey['3mptbypfywk2v'], {
    rkey: '3mptbypfywk2v',
    hashtags: ['HowToTellAiToShutUp', 'IndieRebellion'],
    link_urls: [],
    langs: ['de'],
    embed_type: null,
    has_media: false,
    created_at: '2026-07-04 14:38:07.323+00',
    sort_at: '2026-07-04 14:38:07.323+00',
  });
  t.same(byKey['3mptbyoigog2b'], {
    rkey: '3mptbyoigog2b',
    hashtags: [],
    link_urls: ['https://www.ufofeed.com/266486/has-anyone-properly-debunked-tic-tac-video/'],
    langs: ['en-US', 'en'],
    embed_type: 'external',
    has_media: false,
    created_at: '2026-07-04 14:38:02+00',
    sort_at: '2026-07-04 14:38:02+00',
  }, 'createdAt with +00:00 offset parses');
  t.match(byKey['3mptbyo7tas2u'], {
    hashtags: ['talesatwonderworld', 'balanwonderworldoc'],
    link_urls: ['https://www.tumblr.com/tempo-tales/765681292369166336/behind-them-timmi-and-wankyu-follow-silently-but?source=share'],
    embed_type: 'images',
    has_media: true,
  });
  const deletes = await readTable(env.duckdb, dir, 'deletes', 'uri, collection', 'uri');
  t.same(deletes.filter((d) => d.collection === 'app.bsky.feed.post'), [
    { uri: 'at://did:plc:4smmjsqf6l5jkzczvw6vsrqc/app.bsky.feed.post/3mpt73z3ejc2p', collection: 'app.bsky.feed.post' },
  ]);
  t.equal(deletes.filter((d) => d.collection === 'app.bsky.graph.follow').length, 3);
  const records = await readTable(env.duckdb, dir, 'records', 'collection', 'collection');
  t.same(records, [{ collection: 'app.bsky.actor.status' }, { collection: 'fm.teal.alpha.actor.status' }]);
  const likes = await readTable(env.duckdb, dir, 'likes', 'count(DISTINCT uri) AS n, count(subject_uri) AS s');
  t.same(likes, [{ n: '105', s: '105' }]);
});

function post(rkey: string, timeUs: number, record: Record<string, unknown>): string {
  return JSON.stringify({
    did: 'did:plc:author',
    time_us: timeUs,
    kind: 'commit',
    commit: { rev: `rev${rkey}`, operation: 'create', collection: 'app.bsky.feed.post', rkey, cid: `cid${rkey}`, record: { $type: 'app.bsky.feed.post', ...record } },
  });
}

tap.test('synthetic posts: mentions, quotes, media, labels, odd createdAt, two hours', async (t) => {
  const env = await makeFlushEnv(t);
  const h14 = Date.UTC(2026, 6, 4, 14, 59, 59) * 1000; // last second of 14:00
  const h15 = Date.UTC(2026, 6, 4, 15, 0, 0) * 1000;
  const lines = [
    post('a', h14, {
      text: 'hi @bob #Tag',
      createdAt: '2026-07-04T14:00:00.000Z',
      tags: ['extra'],
      labels: { $type: 'com.atproto.label.defs#selfLabels', values: [{ val: 'porn' }] },
      facets: [
        { index: { byteStart: 3, byteEnd: 7 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:bob' }] },
        { index: { byteStart: 8, byteEnd: 12 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'Tag' }] },
      ],
      embed: {
        $type: 'app.bsky.embed.recordWithMedia',
        record: { $type: 'app.bsky.embed.record', record: { uri: 'at://did:plc:x/app.bsky.feed.post/q', cid: 'cq' } },
        media: { $type: 'app.bsky.embed.video', video: {} },
      },
    }),
    post('b', h15, { text: 'future', createdAt: '2027-01-01T00:00:00Z', embed: { $type: 'app.bsky.embed.record', record: { uri: 'at://q2', cid: 'c' } } }),
    post('c', h15 + 1, { text: 'not a date', createdAt: 'yesterday' }),
    post('d', h15 + 2, { text: 'year zero', createdAt: '0000-01-01T00:00:00Z' }),
    post('e', h15 + 3, { text: 'far future', createdAt: '20260-01-01T00:00:00Z' }),
    post('f', h15 + 4, { text: 'no zone', createdAt: '2026-07-04T10:00:00' }),
    post('g', h15 + 5, { text: 5, langs: 'en', facets: 'bad' }),
  ];
  await xaddLines(env.redis, env.ctx.keys.stream, lines);
  const s = await runFlush(env.ctx);
  t.equal(s.quarantined, 0, 'odd field values are not malformed events');
  t.equal(s.rows.posts, 7);
  t.same(s.files.map((f) => f.split('/').slice(0, 4).join('/')), ['year=2026/month=07/day=04/hour=14', 'year=2026/month=07/day=04/hour=15']);
  const rows = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'posts', 'rkey, text, created_at, sort_at, hashtags, mention_dids, quote_uri, embed_type, has_media, labels, langs, hour', 'rkey');
  t.same(rows[0], {
    rkey: 'a', text: 'hi @bob #Tag', created_at: '2026-07-04 14:00:00+00', sort_at: '2026-07-04 14:00:00+00', hashtags: ['Tag', 'extra'],
    mention_dids: ['did:plc:bob'], quote_uri: 'at://did:plc:x/app.bsky.feed.post/q', embed_type: 'recordWithMedia', has_media: true,
    labels: ['porn'], langs: [], hour: '14',
  });
  t.match(rows[1], { rkey: 'b', created_at: '2027-01-01 00:00:00+00', sort_at: '2026-07-04 15:00:00+00', quote_uri: 'at://q2', embed_type: 'record', has_media: false, hour: '15' }, 'future createdAt: sort_at = indexed_at');
  t.match(rows[2], { rkey: 'c', created_at: null, sort_at: '2026-07-04 15:00:00.000001+00' }, 'unparseable createdAt is NULL');
  t.match(rows[3], { rkey: 'd', created_at: null }, 'year 0 is NULL');
  t.match(rows[4], { rkey: 'e', created_at: null }, 'year 20260 is NULL');
  t.match(rows[5], { rkey: 'f', created_at: '2026-07-04 10:00:00+00' }, 'no zone = UTC');
  t.match(rows[6], { rkey: 'g', text: '5', langs: [], hashtags: [] });
  const raw = await readFile(path.join(env.cfg.storage.parquetDir, s.files[0]!));
  t.equal(raw.subarray(0, 4).toString(), 'PAR1');
});
