import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import WebSocket from 'ws';
import { waitFor } from '../helpers/env.js';
import { collect, collectAll, realLines, REAL_FIXTURE, startServer, synthLine, times } from './helpers.js';

interface Ev {
  did: string;
  time_us: number;
  kind: string;
  commit?: { collection: string };
}
const lines = realLines();
const parsed = lines.map((l) => JSON.parse(l) as Ev);
const pick = (keep: (e: Ev) => boolean) => lines.filter((_, i) => keep(parsed[i] as Ev));

t.test('real events: whole file byte for byte, inclusive cursor, filters', async (t) => {
  const server = await startServer(t, { file: REAL_FIXTURE });
  t.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/subscribe$/);

  t.same(await collectAll(t, server, ''), lines, 'no cursor: every line from the start, exactly as in the file');

  const at50 = (parsed[50] as Ev).time_us;
  const fromCursor = await collectAll(t, server, `?cursor=${at50}`);
  t.equal(fromCursor[0], lines[50], 'the event at the cursor is the first one sent');
  t.same(fromCursor, lines.slice(50));
  t.same(await collectAll(t, server, `?cursor=${at50 + 1}`), lines.slice(51), 'one microsecond later skips it');
  t.same(await collectAll(t, server, `?cursor=${(parsed[0] as Ev).time_us - 3_600_000_000}`), lines, 'a cursor older than the data starts at the oldest event');
  t.same(await collectAll(t, server, `?cursor=${(parsed[151] as Ev).time_us + 1}`), [], 'a cursor past the data sends nothing');

  const notCommit = (e: Ev) => e.kind !== 'commit';
  const posts = await collectAll(t, server, '?wantedCollections=app.bsky.feed.post');
  t.same(posts, pick((e) => e.commit?.collection === 'app.bsky.feed.post' || notCommit(e)));
  t.equal(posts.length, 18 + 2, 'identity and account events pass a collection filter');

  t.same(
    await collectAll(t, server, '?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.graph.follow'),
    pick((e) => ['app.bsky.feed.post', 'app.bsky.graph.follow'].includes(e.commit?.collection ?? '') || notCommit(e)),
    'repeated wantedCollections',
  );
  const feed = await collectAll(t, server, '?wantedCollections=app.bsky.feed.*');
  t.same(feed, pick((e) => (e.commit?.collection ?? '').startsWith('app.bsky.feed.') || notCommit(e)), 'prefix match');
  t.equal(feed.length, 105 + 18 + 15 + 2);
  t.same(
    await collectAll(t, server, '?wantedCollections=app.bsky.*&wantedCollections=fm.teal.alpha.actor.status'),
    pick((e) => (e.commit?.collection ?? '').startsWith('app.bsky.') || e.commit?.collection === 'fm.teal.alpha.actor.status' || notCommit(e)),
    'prefix and exact together',
  );

  const dids = ['did:plc:hqvhxrowqbemo5e4wjnj6zao', 'did:plc:u4lmvw4wwzaql3z5kcf3r7h4'];
  const byDid = await collectAll(t, server, `?wantedDids=${dids[0]}&wantedDids=${dids[1]}`);
  t.same(byDid, pick((e) => dids.includes(e.did)));
  t.equal(byDid.length, 5, 'wantedDids also filters identity and account events');
  t.same(
    await collectAll(t, server, `?wantedDids=${dids[0]}&wantedDids=${dids[1]}&wantedCollections=app.bsky.feed.like`),
    pick((e) => dids.includes(e.did) && (e.commit?.collection === 'app.bsky.feed.like' || notCommit(e))),
    'dids and collections together',
  );

  const sizes = lines.map((l) => Buffer.byteLength(l)).sort((a, b) => a - b);
  const limit = sizes[75] as number;
  t.same(await collectAll(t, server, `?maxMessageSizeBytes=${limit}`), lines.filter((l) => Buffer.byteLength(l) <= limit), 'maxMessageSizeBytes skips larger events');
  t.same(await collectAll(t, server, '?maxMessageSizeBytes=abc&compress=false'), lines, 'an unparsable size means no limit; compress=false is accepted');
});

t.test('bad parameters get a 400 before the upgrade', async (t) => {
  const server = await startServer(t, { events: [synthLine({ timeUs: 1 })] });
  const http = server.url.replace('ws://', 'http://');
  const cases: [string, string][] = [
    ['?wantedCollections=not-an-nsid', 'invalid subscriber options: invalid collection: not-an-nsid'],
    ['?wantedCollections=app.bsky.feed.post&wantedCollections=app..bsky', 'invalid subscriber options: invalid collection: app..bsky'],
    ['?cursor=abc', 'invalid cursor: abc'],
    ['?cursor=99999999999999999999', 'invalid cursor: 99999999999999999999'],
    ['?wantedDids=alice', 'invalid subscriber options: invalid did: alice'],
    [`?${Array.from({ length: 101 }, (_, i) => `wantedCollections=app.test.c${i}`).join('&')}`, 'invalid subscriber options: too many wanted collections'],
    ['?compress=true', 'zstd compression is not supported by this replay server: connect without compress=true or Socket-Encoding: zstd'],
  ];
  for (const [query, message] of cases) {
    const res = await fetch(http + query);
    const label = query.length > 80 ? `${query.slice(0, 80)}…` : query;
    t.equal(res.status, 400, label);
    t.equal(await res.text(), message, label);
  }
  const notFound = await fetch(http.replace('/subscribe', '/nope'));
  t.equal(notFound.status, 404, 'other paths: 404');
  const plain = await fetch(http);
  t.equal(plain.status, 400, 'valid options without an upgrade: 400');

  // The same over a websocket handshake: the upgrade is refused with the status and message.
  const ws = new WebSocket(`${server.url}?cursor=yesterday`);
  const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => reject(new Error('upgrade accepted')));
    ws.on('error', () => undefined);
  });
  t.same(refused, { status: 400, body: 'invalid cursor: yesterday' });
  t.equal(server.stats().clients, 0, 'no subscriber was added');
});

t.test('requireHello waits for options_update, which replaces the filters live', async (t) => {
  const events = Array.from({ length: 200 }, (_, i) =>
    synthLine({ timeUs: 1_000_000 + i * 10, collection: i % 2 ? 'app.bsky.feed.post' : 'app.bsky.feed.like', did: `did:plc:u${i % 3}` }),
  );
  // Paced so that the switch lands mid-file even on a loaded machine (all likes take 2 s).
  const server = await startServer(t, { events, rate: 50 });
  const c = collect(t, `${server.url}?requireHello=true&wantedCollections=app.bsky.graph.follow`);
  await c.opened;
  await waitFor('the subscriber', () => server.stats().clients === 1);
  c.ws.send(JSON.stringify({ type: 'something_else', payload: {} }));
  t.equal(server.stats().sent, 0, 'nothing before the hello');
  t.equal(c.messages.length, 0);

  c.ws.send(JSON.stringify({ type: 'options_update', payload: { wantedCollections: ['app.bsky.feed.like'], wantedDids: [] } }));
  await waitFor('some likes', () => c.messages.length >= 5);
  c.ws.send(JSON.stringify({ type: 'options_update', payload: { wantedCollections: ['app.bsky.feed.post'], wantedDids: ['did:plc:u1', 'did:plc:u2'] } }));
  await waitFor('the end', () => server.stats().atEnd === 1 && c.messages.length === server.stats().sent);

  const got = c.messages.map((m) => JSON.parse(m) as Ev);
  const firstPost = got.findIndex((e) => e.commit?.collection === 'app.bsky.feed.post');
  t.ok(firstPost >= 5, 'likes first');
  const likes = c.messages.slice(0, firstPost);
  const posts = c.messages.slice(firstPost);
  t.ok(posts.length > 0, 'then posts');
  const lastLike = times(likes).at(-1) as number;
  const firstPostT = times(posts)[0] as number;
  t.same(likes, events.filter((l) => l.includes('feed.like') && (JSON.parse(l) as Ev).time_us <= lastLike), 'every like up to the switch');
  t.same(
    posts,
    events.filter((l) => {
      const e = JSON.parse(l) as Ev;
      return e.commit?.collection === 'app.bsky.feed.post' && e.time_us >= firstPostT && ['did:plc:u1', 'did:plc:u2'].includes(e.did);
    }),
    'every wanted post of the wanted dids after the switch',
  );
});

t.test('a bad options_update closes the socket with the reason', async (t) => {
  const server = await startServer(t, { events: [synthLine({ timeUs: 1 })] });
  const c = collect(t, `${server.url}?requireHello=true`);
  await c.opened;
  c.ws.send(JSON.stringify({ type: 'options_update', payload: { wantedCollections: ['nope'] } }));
  t.same(await c.closed, { code: 1000, reason: 'failed to parse subscriber options: invalid subscriber options: invalid collection: nope' });
  const d = collect(t, `${server.url}?requireHello=true`);
  await d.opened;
  d.ws.send('{not json');
  const closed = await d.closed;
  t.equal(closed.code, 1000);
  t.match(closed.reason, /^failed to unmarshal subscriber sourced message/);
});

t.test('--rate paces each client', async (t) => {
  const events = Array.from({ length: 2000 }, (_, i) => synthLine({ timeUs: 1_000_000 + i }));
  const server = await startServer(t, { events, rate: 500 });
  const started = performance.now();
  const c = collect(t, server.url);
  await c.opened;
  await waitFor('200 events', () => c.messages.length >= 200);
  const elapsed = performance.now() - started;
  const count = c.messages.length;
  // 500/s with a 50 ms burst cannot deliver 200 events in less than ~350 ms; a slow machine only makes it longer.
  t.ok(elapsed >= 300, `200 events took ${Math.round(elapsed)} ms`);
  t.ok(count < 1000, `not everything at once (${count})`);
});

t.test('--loop starts over with time_us shifted forward', async (t) => {
  const events = [0, 100, 200, 300, 400].map((d, i) => synthLine({ timeUs: 1000 + d, did: `did:plc:l${i}` }));
  const server = await startServer(t, { events, loop: true });
  const c = collect(t, server.url);
  await c.opened;
  await waitFor('three passes', () => c.messages.length >= 15);
  c.ws.terminate();
  const ts = times(c.messages.slice(0, 15));
  t.same(ts.slice(0, 5), [1000, 1100, 1200, 1300, 1400]);
  for (let i = 5; i < 15; i++) t.equal(ts[i], (ts[i - 5] as number) + 500, `event ${i} is one period (span + mean gap) later`);
  t.equal(c.messages[7], (events[2] as string).replace('"time_us":1200', '"time_us":1700'), 'only time_us changes');

  const d = collect(t, `${server.url}?cursor=2150`);
  await d.opened;
  await waitFor('events from the third pass', () => d.messages.length >= 3);
  t.same(times(d.messages.slice(0, 3)), [2200, 2300, 2400], 'a cursor in a later pass resumes inside it');
});

t.test('dropConnections closes every client abruptly', async (t) => {
  const server = await startServer(t, { events: [synthLine({ timeUs: 1 })] });
  const a = collect(t, `${server.url}?requireHello=true`);
  const b = collect(t, server.url);
  await Promise.all([a.opened, b.opened]);
  await waitFor('two clients', () => server.stats().clients === 2);
  server.dropConnections();
  const [ca, cb] = await Promise.all([a.closed, b.closed]);
  t.equal(ca.code, 1006, 'no close frame');
  t.equal(cb.code, 1006);
  await waitFor('no clients', () => server.stats().clients === 0);
  t.same(await collectAll(t, server, ''), [synthLine({ timeUs: 1 })], 'new clients are still served');
});

t.test('large files are streamed with the same semantics', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'replay-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const events = Array.from({ length: 3000 }, (_, i) =>
    synthLine({ timeUs: 5_000_000 + i * 7, collection: i % 4 ? 'app.bsky.feed.like' : 'app.bsky.feed.post', kind: i % 500 === 3 ? 'identity' : 'commit' }),
  );
  const text = events.join('\n') + '\n\n';
  const plain = path.join(dir, 'events.jsonl');
  const gz = path.join(dir, 'events.jsonl.gz');
  await writeFile(plain, 'not json\r\n' + text.replaceAll('\n', '\r\n'));
  await writeFile(gz, gzipSync(text));
  t.ok(gzipSync(text).length < 100_000 && text.length > 100_000, 'the sizes the variants below rely on');

  // 1 KiB: both files are larger, streamed at once; 100 kB: the .gz is smaller but its text is not (found while reading).
  const variants: [string, number][] = [[plain, 1024], [gz, 1024], [gz, 100_000]];
  for (const [file, memoryLimitBytes] of variants) {
    const server = await startServer(t, { file, memoryLimitBytes });
    const name = `${path.basename(file)} (limit ${memoryLimitBytes})`;
    t.same(await collectAll(t, server, ''), events, `${name}: everything`);
    const cursor = 5_000_000 + 1234 * 7;
    t.same(await collectAll(t, server, `?cursor=${cursor}`), events.slice(1234), `${name}: exact cursor`);
    t.same(await collectAll(t, server, `?cursor=${cursor - 3}`), events.slice(1234), `${name}: cursor between events`);
    t.same(await collectAll(t, server, `?cursor=${cursor + 3000 * 7}`), [], `${name}: cursor past the end`);
    t.same(
      await collectAll(t, server, '?wantedCollections=app.bsky.feed.post'),
      events.filter((l) => l.includes('"kind":"identity"') || l.includes('app.bsky.feed.post')),
      `${name}: filtered`,
    );
  }
  const looping = await startServer(t, { file: gz, memoryLimitBytes: 1024, loop: true });
  const c = collect(t, `${looping.url}?cursor=${5_000_000 + 2998 * 7}`);
  await c.opened;
  await waitFor('the wrap', () => c.messages.length >= 3);
  t.same(times(c.messages.slice(0, 3)), [5_000_000 + 2998 * 7, 5_000_000 + 2999 * 7, 5_000_000 + 3000 * 7], 'a streamed gzip file loops too');

  const inMemoryGz = await startServer(t, { file: gz });
  t.same(await collectAll(t, inMemoryGz, `?cursor=${cursor(10)}`), events.slice(10), 'small .gz files are read into memory');
  function cursor(i: number) {
    return 5_000_000 + i * 7;
  }
});

t.test('unsorted and malformed input', async (t) => {
  const a = synthLine({ timeUs: 30 });
  const b = synthLine({ timeUs: 10 });
  const c = synthLine({ timeUs: 20 });
  const server = await startServer(t, { events: [a, '{"kind":"commit"}', b, '', 'garbage', c] });
  t.same(await collectAll(t, server, ''), [b, c, a], 'sorted by time_us, unusable lines skipped');
  // Key order other than Jetstream's still works (slow path).
  const odd = JSON.stringify({ kind: 'commit', commit: { collection: 'app.bsky.feed.post', operation: 'create' }, time_us: 5, did: 'did:plc:odd' });
  const s2 = await startServer(t, { events: [odd, synthLine({ timeUs: 6, collection: 'app.bsky.feed.like' })], loop: true });
  const col = collect(t, `${s2.url}?wantedCollections=app.bsky.feed.post`);
  await col.opened;
  await waitFor('two passes', () => col.messages.length >= 2);
  t.equal(col.messages[0], odd);
  t.same(JSON.parse(col.messages[1] as string), { ...(JSON.parse(odd) as object), time_us: 7 }, 'shifted by re-serialising when the layout is unusual');
});
