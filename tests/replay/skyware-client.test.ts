// The replay server consumed by an independent Jetstream client library (@skyware/jetstream).
import { Jetstream } from '@skyware/jetstream';
import t from 'tap';
import WebSocket from 'ws';
import { waitFor } from '../helpers/env.js';
import { realLines, REAL_FIXTURE, startServer } from './helpers.js';

interface Ev {
  did: string;
  time_us: number;
  kind: string;
  commit?: { collection: string; operation: string; rkey: string };
}
const events = realLines().map((l) => JSON.parse(l) as Ev);
const key = (e: Ev) => `${e.time_us} ${e.did} ${e.kind} ${e.commit?.collection ?? ''} ${e.commit?.rkey ?? ''}`;

interface Received {
  keys: string[];
  errors: unknown[];
}

function consume(t: { teardown(fn: () => unknown): void }, opts: ConstructorParameters<typeof Jetstream>[0]): { js: Jetstream; got: Received } {
  const js = new Jetstream({ ws: WebSocket, ...opts });
  const got: Received = { keys: [], errors: [] };
  js.on('commit', (e) => got.keys.push(key(e as unknown as Ev)));
  js.on('identity', (e) => got.keys.push(key(e as unknown as Ev)));
  js.on('account', (e) => got.keys.push(key(e as unknown as Ev)));
  js.on('error', (err) => got.errors.push(err));
  js.start();
  t.teardown(() => js.close());
  return { js, got };
}

t.test('@skyware/jetstream receives exactly the expected events', async (t) => {
  const server = await startServer(t, { file: REAL_FIXTURE });

  const all = consume(t, { endpoint: server.url });
  await waitFor('every event', () => all.got.keys.length === events.length);
  t.same(all.got.keys, events.map(key), 'all 152 events, in order, parsed by the library');
  t.equal(all.js.cursor, events.at(-1)?.time_us, "the library's cursor is the last time_us");

  const wanted = ['app.bsky.feed.post', 'app.bsky.graph.*'];
  const filtered = consume(t, { endpoint: server.url, wantedCollections: wanted });
  const expectFiltered = events.filter((e) => e.kind !== 'commit' || e.commit?.collection === 'app.bsky.feed.post' || e.commit?.collection.startsWith('app.bsky.graph.'));
  await waitFor('filtered events', () => filtered.got.keys.length === expectFiltered.length);
  t.same(filtered.got.keys, expectFiltered.map(key), 'collection filter (exact and prefix)');

  const did = 'did:plc:u4lmvw4wwzaql3z5kcf3r7h4';
  const byDid = consume(t, { endpoint: server.url, wantedDids: [did] });
  const expectDid = events.filter((e) => e.did === did);
  await waitFor('events of one did', () => byDid.got.keys.length === expectDid.length);
  t.same(byDid.got.keys, expectDid.map(key), 'did filter');

  const cursor = (events[100] as Ev).time_us;
  const resumed = consume(t, { endpoint: server.url, cursor });
  await waitFor('events from the cursor', () => resumed.got.keys.length === events.length - 100);
  t.same(resumed.got.keys, events.slice(100).map(key), 'cursor is inclusive');

  // Everything the server sent has arrived: nothing more is on its way.
  await waitFor('all sent', () => server.stats().atEnd === 4);
  t.equal(server.stats().sent, events.length + expectFiltered.length + expectDid.length + (events.length - 100));
  t.equal(all.got.keys.length + filtered.got.keys.length + byDid.got.keys.length + resumed.got.keys.length, server.stats().sent);
  t.same([...all.got.errors, ...filtered.got.errors, ...byDid.got.errors, ...resumed.got.errors], [], 'no client errors');
});

t.test('@skyware/jetstream updateOptions switches the filter of a live connection', async (t) => {
  const lines = realLines();
  // Paced so that the switch lands mid-file even on a loaded machine (all likes take 3.5 s).
  const server = await startServer(t, { events: lines, rate: 30 });
  const c = consume(t, { endpoint: server.url, wantedCollections: ['app.bsky.feed.like'] });
  await waitFor('a few likes', () => c.got.keys.length >= 3);
  c.js.updateOptions({ wantedCollections: ['app.bsky.feed.repost'] });
  await waitFor('the end', () => server.stats().atEnd === 1 && c.got.keys.length === server.stats().sent);
  const cols = c.got.keys.map((k) => k.split(' ')[3]);
  const firstRepost = cols.indexOf('app.bsky.feed.repost');
  t.ok(firstRepost >= 3, 'likes, then reposts');
  t.ok(cols.slice(0, firstRepost).every((x) => x === 'app.bsky.feed.like' || x === ''), 'before: likes (and identity/account)');
  t.ok(cols.slice(firstRepost).every((x) => x === 'app.bsky.feed.repost' || x === ''), 'after: reposts (and identity/account)');
});
