/**
 * The real chain below the API: a Jetstream replay server → the ingest daemon → the Redis stream → the
 * flush library → Parquet → search/counts over HTTP. Checks a delete arriving in a later batch and a replayed event in a
 * second batch file, and the exact post set of the real 152-event fixture.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { Redis } from 'ioredis';
import { startReplayServer } from '../../local-tools/replay-server/server.js';
import { loadConfig } from '../../shared/config/index.js';
import { createContext } from '../../shared/context.js';
import { IngestDaemon } from '../../shared/ingest/daemon.js';
import { runFlush } from '../../shared/flush/index.js';
import { createLogger } from '../../shared/log.js';
import { redisKeys } from '../../shared/redis.js';
import { makeTestEnv, waitFor } from '../helpers/env.js';
import { tid } from '../../local-tools/generator/ids.js';
import { get, serve } from './fixture.js';

const T0 = Date.parse('2026-03-02T10:00:00Z') * 1000;
const ALICE = 'did:plc:flushalice';
const BOB = 'did:plc:flushbob';

function post(did: string, rkey: string, timeUs: number, record: Record<string, unknown>): string {
  return JSON.stringify({
    did,
    time_us: timeUs,
    kind: 'commit',
    commit: { rev: tid(timeUs, 0), operation: 'create', collection: 'app.bsky.feed.post', rkey, cid: `bafy${rkey}`, record: { $type: 'app.bsky.feed.post', ...record } },
  });
}

const A1 = post(ALICE, 'a1', T0 + 1_000_000, {
  text: 'Flushed hello #Tag',
  langs: ['en'],
  createdAt: '2026-03-02T10:00:00.500Z',
  facets: [{ index: { byteStart: 14, byteEnd: 18 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'Tag' }] }],
});
const B1 = post(BOB, 'b1', T0 + 2_000_000, {
  text: 'another hello, with a picture',
  createdAt: '2026-03-02T10:00:01.000Z',
  reply: { root: { uri: `at://${ALICE}/app.bsky.feed.post/a1`, cid: 'bafya1' }, parent: { uri: `at://${ALICE}/app.bsky.feed.post/a1`, cid: 'bafya1' } },
  embed: { $type: 'app.bsky.embed.images', images: [] },
});
const B2 = post(BOB, 'b2', T0 + 3_000_000, { text: 'hello, soon deleted', createdAt: '2026-03-02T10:00:02.000Z' });
const IDENT = JSON.stringify({ did: ALICE, time_us: T0 + 4_000_000, kind: 'identity', identity: { did: ALICE, handle: 'alice.flush.test', seq: 1, time: '2026-03-02T10:00:03Z' } });
const DEL_B2 = JSON.stringify({ did: BOB, time_us: T0 + 3_600_000_000, kind: 'commit', commit: { rev: tid(T0 + 3_600_000_000, 0), operation: 'delete', collection: 'app.bsky.feed.post', rkey: 'b2' } });

t.test('search over what the flush wrote: deletes in a later batch, replays, real events', async (t) => {
  const env = await makeTestEnv(t, { FLUSH_CONSUMER: 'api-test' });
  const ctx = await createContext(env.cfg, 'test:flush', { redis: env.redis, log: createLogger('test:flush', { level: 'silent' }) });
  t.teardown(() => ctx.destroy());
  const stream = redisKeys(env.prefix).stream;
  const xadd = async (lines: string[]) => {
    for (const l of lines) await env.redis.xadd(stream, '*', 'e', l);
  };
  const real = readFileSync(new URL('../fixtures/jetstream-real-152.jsonl', import.meta.url), 'utf8').split('\n').filter((l) => l.trim());

  // Phase 1 through the daemon: replay server (events sorted by time_us) → daemon → stream.
  const first = [A1, B1, B2, IDENT, ...real].sort((a, b) => (JSON.parse(a) as { time_us: number }).time_us - (JSON.parse(b) as { time_us: number }).time_us);
  const server = await startReplayServer({ events: first, port: 0, rate: 'max' });
  t.teardown(() => server.close());
  const dcfg = loadConfig({ ...env.env, JETSTREAM_URL: server.url, INGEST_HTTP_PORT: '0', CURSOR_SAVE_MS: '100' });
  const dredis = new Redis(dcfg.redis.url, { maxRetriesPerRequest: 2 });
  dredis.on('error', () => undefined);
  const daemon = new IngestDaemon({ cfg: dcfg, redis: dredis, log: createLogger('ingest', { level: 'silent' }) });
  t.teardown(async () => {
    await daemon.stop();
    dredis.disconnect();
  });
  await daemon.start();
  await waitFor('the daemon to write every event', async () => (await env.redis.xlen(stream)) === first.length, 20_000);
  await daemon.stop();
  await runFlush(ctx);
  const search = await serve(t, env, 'search');
  const keys = async (q: Record<string, string>) => {
    const res = await get(search.url, q);
    t.equal(res.status, 200);
    return res.json().data.map((d: { uri: string }) => d.uri.replace(/^at:\/\/[^/]+\/app\.bsky\.feed\.post\//, ''));
  };
  const mine = { start: '2026-03-02', end: '2026-03-03' };
  t.same(await keys({ ...mine, text: 'HELLO' }), ['b2', 'b1', 'a1']);

  // The delete arrives an hour later; the first event is replayed into another batch file.
  await xadd([DEL_B2, A1]);
  await runFlush(ctx);
  t.same(await keys({ ...mine, text: 'hello' }), ['b1', 'a1'], 'deleted b2 gone, replayed a1 once');
  t.same(await keys({ ...mine, username: '@alice.flush.test' }), ['a1']);
  t.same(await keys({ ...mine, hashtag: 'tag' }), ['a1']);
  t.same(await keys({ ...mine, has_media: 'true' }), ['b1']);
  t.same(await keys({ ...mine, is_reply: 'true' }), ['b1']);
  t.same(await keys({ ...mine, lang: 'en' }), ['a1']);
  t.same(await keys({ ...mine, text: 'Flushed hello', exact: 'true' }), ['a1']);
  const a1 = (await get(search.url, { ...mine, username: ALICE })).json().data[0];
  t.equal(a1.author_handle, 'alice.flush.test');
  t.equal(a1.sort_at, '2026-03-02T10:00:00.500000Z', 'sort_at = createdAt (earlier than indexed_at)');
  t.equal(a1.indexed_at, '2026-03-02T10:00:01.000000Z');

  // The real fixture: every created post not deleted in the same capture, exactly once.
  const expected = new Set<string>();
  const deleted = new Set<string>();
  for (const l of real) {
    const e = JSON.parse(l) as { did: string; kind: string; commit?: { operation: string; collection: string; rkey: string } };
    if (e.kind !== 'commit' || e.commit!.collection !== 'app.bsky.feed.post') continue;
    const u = `${e.did}/${e.commit!.rkey}`;
    if (e.commit!.operation === 'delete') deleted.add(u);
    else expected.add(u);
  }
  for (const d of deleted) expected.delete(d);
  const res = await get(search.url, { start: '2026-05-01', limit: '500' });
  const got = res.json().data.map((d: { uri: string }) => d.uri.replace(/^at:\/\//, '').replace('/app.bsky.feed.post/', '/'));
  t.equal(got.length, expected.size, `${expected.size} real posts`);
  t.same(new Set(got), expected);

  const counts = await serve(t, env, 'counts');
  const c = await get(counts.url, { ...mine, granularity: 'hour', start: '2026-03-02T10:00:00Z', end: '2026-03-02T12:00:00Z' });
  t.same(c.json().data, [
    { start: '2026-03-02T10:00:00.000Z', count: 2 },
    { start: '2026-03-02T11:00:00.000Z', count: 0 },
  ]);
});
