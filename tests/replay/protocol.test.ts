// Pure parts of the replay server: option parsing as Jetstream does it, event lines, loop arithmetic.
import t from 'tap';
import { readEventLine, shiftLine } from '../../local-tools/replay-server/event-line.js';
import { InvalidOptionsError, isDid, isNsid, parseClientMessage, parseMaxMessageSize, parseSubscribeQuery } from '../../local-tools/replay-server/protocol.js';
import { parseRate } from '../../local-tools/replay-server/server.js';
import { loopStart } from '../../local-tools/replay-server/session.js';
import { realLines, synthLine } from './helpers.js';

t.test('NSIDs and DIDs', async (t) => {
  for (const ok of ['app.bsky.feed.post', 'fm.teal.alpha.actor.status', 'com.example.fooBar2', 'a-b.c.d']) t.ok(isNsid(ok), ok);
  for (const bad of ['', 'post', 'app.bsky', 'app..post', 'app.bsky.2post', '-app.bsky.post', 'app.bsky.feed.post-x', 'app.bsky.*']) t.notOk(isNsid(bad), bad);
  for (const ok of ['did:plc:u4lmvw4wwzaql3z5kcf3r7h4', 'did:web:example.com', 'did:web:localhost%3A8080']) t.ok(isDid(ok), ok);
  for (const bad of ['alice', 'did:plc:', 'did:PLC:abc', 'did:plc:abc:', 'did:plc:a b']) t.notOk(isDid(bad), bad);
});

t.test('subscribe query', async (t) => {
  const q = (s: string) => parseSubscribeQuery(new URLSearchParams(s));
  const o = q('wantedCollections=app.bsky.feed.*&wantedCollections=app.bsky.graph.follow&wantedCollections=app.bsky.graph.follow&wantedDids=did:plc:x&cursor=123&requireHello=true&maxMessageSizeBytes=1000');
  t.same([...(o.filters.collections ?? [])], ['app.bsky.graph.follow']);
  t.same(o.filters.prefixes, ['app.bsky.feed.']);
  t.same([...o.filters.dids], ['did:plc:x']);
  t.equal(o.cursor, 123);
  t.equal(o.requireHello, true);
  t.equal(o.filters.maxMessageSizeBytes, 1000);
  const none = q('');
  t.equal(none.filters.collections, null, 'no wantedCollections: everything');
  t.equal(none.cursor, undefined);
  t.equal(none.requireHello, false);
  t.equal(q('cursor=').cursor, undefined, 'an empty cursor is no cursor');
  t.equal(q('requireHello=1').requireHello, false, 'only "true" asks for a hello');
  t.throws(() => q('cursor=1.5'), new InvalidOptionsError('invalid cursor: 1.5'));
  t.throws(() => q(Array.from({ length: 10_001 }, (_, i) => `wantedDids=did:plc:d${i}`).join('&')), new InvalidOptionsError('invalid subscriber options: too many wanted DIDs'));
  t.doesNotThrow(() => q(Array.from({ length: 100 }, (_, i) => `wantedCollections=app.test.c${i}`).join('&')), '100 collections are allowed');
  t.throws(() => parseSubscribeQuery(new URLSearchParams(''), { 'socket-encoding': 'zstd' }), InvalidOptionsError);
  t.equal(parseMaxMessageSize('-5'), 0);
  t.equal(parseMaxMessageSize('x'), 0);
  t.equal(parseMaxMessageSize(42), 42);
});

t.test('client messages', async (t) => {
  t.equal(parseClientMessage('{"type":"ping"}'), null, 'unknown types are ignored');
  const f = parseClientMessage(JSON.stringify({ type: 'options_update', payload: { wantedCollections: ['app.bsky.feed.post'], wantedDids: ['did:plc:a'], maxMessageSizeBytes: 10 } }));
  t.same([...(f?.collections ?? [])], ['app.bsky.feed.post']);
  t.equal(f?.maxMessageSizeBytes, 10);
  t.equal(parseClientMessage('{"type":"options_update","payload":{}}')?.collections, null, 'an empty update means everything');
  t.throws(() => parseClientMessage('nope'), /failed to unmarshal subscriber sourced message/);
  t.throws(() => parseClientMessage('{"type":"options_update","payload":{"wantedDids":[1]}}'), /wantedDids must be an array of strings/);
  t.throws(() => parseClientMessage('{"type":"options_update","payload":{"wantedDids":["x"]}}'), new InvalidOptionsError('failed to parse subscriber options: invalid subscriber options: invalid did: x'));
});

t.test('event lines', async (t) => {
  for (const line of realLines()) {
    const ev = readEventLine(Buffer.from(line));
    const parsed = JSON.parse(line) as { did: string; time_us: number; kind: string; commit?: { collection: string } };
    t.ok(ev && ev.timeAt >= 0, 'every real line takes the fast path');
    if (!ev) continue;
    t.equal(ev.timeUs, parsed.time_us);
    t.equal(ev.did, parsed.did);
    t.equal(ev.collection, parsed.commit?.collection ?? '');
    t.same(JSON.parse(shiftLine(ev, 1000).toString()), { ...parsed, time_us: parsed.time_us + 1000 });
  }
  t.equal(readEventLine(Buffer.from('{"did":"did:plc:a","kind":"commit"}')), null, 'no time_us');
  t.equal(readEventLine(Buffer.from('[1,2]')), null);
  const id = readEventLine(Buffer.from(synthLine({ timeUs: 7, kind: 'identity' })));
  t.equal(id?.collection, '');
});

t.test('loop arithmetic and --rate', async (t) => {
  // first=1000, last=1400, period=500
  t.same(loopStart(undefined, 1000, 1400, 500), { pass: 0, from: undefined });
  t.same(loopStart(900, 1000, 1400, 500), { pass: 0, from: 900 });
  t.same(loopStart(1400, 1000, 1400, 500), { pass: 0, from: 1400 });
  t.same(loopStart(1450, 1000, 1400, 500), { pass: 1, from: undefined }, 'between passes: the start of the next one');
  t.same(loopStart(2150, 1000, 1400, 500), { pass: 2, from: 1150 });
  t.equal(parseRate(undefined), 'max');
  t.equal(parseRate('2000'), 2000);
  t.throws(() => parseRate('0'));
});
