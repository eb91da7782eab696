import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventGenerator, generateEvents } from '../../local-tools/generator/generator.js';
import { parseTid } from '../../local-tools/generator/ids.js';
import { parseJetstreamEvent, type JetstreamEvent, type LikeRecord, type PostRecord } from '../../shared/jetstream/index.js';

const N = 50_000;
const RATE = 400;
const START = '2026-07-04T14:00:00.000Z';
const lines = [...generateEvents({ events: N, seed: 'test-seed', start: START, rate: RATE })];
const events: JetstreamEvent[] = lines.map((l, i) => {
  const r = parseJetstreamEvent(l);
  if (!r.ok) throw new Error(`line ${i} does not parse: ${r.reason}: ${l.slice(0, 300)}`);
  return r.event;
});
const commits = events.flatMap((e) => (e.kind === 'commit' ? [e] : []));
const creates = commits.flatMap((e) => (e.commit.operation === 'create' ? [{ e, c: e.commit }] : []));
const posts = creates.filter(({ c }) => c.collection === 'app.bsky.feed.post').map(({ e, c }) => ({ e, rec: c.record as unknown as PostRecord, uri: `at://${e.did}/${c.collection}/${c.rkey}` }));
const share = (pred: (e: JetstreamEvent) => boolean) => events.filter(pred).length / N;
const isCreate = (collection: string) => (e: JetstreamEvent) => e.kind === 'commit' && e.commit.operation === 'create' && e.commit.collection === collection;

t.test('every generated event parses and the count is exact', async (t) => {
  t.equal(lines.length, N);
  t.equal(events.length, N);
});

t.test('no line carries a lone surrogate (invalid UTF-8 that the real Jetstream never sends)', async (t) => {
  const lone = /\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i;
  const loneRaw = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  t.equal(lines.filter((l) => lone.test(l) || loneRaw.test(l)).length, 0);
});

t.test('time_us strictly increases from --start at about --rate', async (t) => {
  const startUs = Date.parse(START) * 1000;
  t.ok((events[0] as JetstreamEvent).time_us > startUs);
  t.ok((events[0] as JetstreamEvent).time_us < startUs + 1_000_000);
  let bad = 0;
  for (let i = 1; i < N; i++) if ((events[i] as JetstreamEvent).time_us <= (events[i - 1] as JetstreamEvent).time_us) bad++;
  t.equal(bad, 0, 'no event at or before its predecessor');
  const spanS = ((events[N - 1] as JetstreamEvent).time_us - startUs) / 1e6;
  const rate = N / spanS;
  t.ok(rate > RATE * 0.9 && rate < RATE * 1.1, `average rate ${rate.toFixed(1)}/s within 10% of ${RATE}`);
  // Burstiness: per-second counts vary well beyond a Poisson process.
  const perSecond = new Map<number, number>();
  for (const e of events) perSecond.set(Math.floor(e.time_us / 1e6), (perSecond.get(Math.floor(e.time_us / 1e6)) ?? 0) + 1);
  const counts = [...perSecond.values()];
  t.ok(Math.max(...counts) > RATE * 1.8, `a burst second (max ${Math.max(...counts)}/s)`);
});

t.test('the mix is within tolerance of the real firehose', async (t) => {
  const near = (name: string, got: number, want: number, tol: number) =>
    t.ok(Math.abs(got - want) <= tol, `${name}: ${(got * 100).toFixed(2)}% (want ${(want * 100).toFixed(1)} ± ${(tol * 100).toFixed(1)})`);
  near('likes', share(isCreate('app.bsky.feed.like')), 0.47, 0.015);
  near('follows', share(isCreate('app.bsky.graph.follow')), 0.33, 0.015);
  near('posts', share(isCreate('app.bsky.feed.post')), 0.095, 0.008);
  near('reposts', share(isCreate('app.bsky.feed.repost')), 0.06, 0.006);
  near('blocks', share(isCreate('app.bsky.graph.block')), 0.008, 0.003);
  near('deletes', share((e) => e.kind === 'commit' && e.commit.operation === 'delete'), 0.019, 0.005);
  t.ok(share((e) => e.kind === 'identity') > 0.0005, 'identity events');
  t.ok(share((e) => e.kind === 'account') > 0.0005, 'account events');
  t.ok(events.some((e) => e.kind === 'account' && !e.account.active && e.account.status), 'inactive accounts with a status');
  t.ok(events.some((e) => e.kind === 'identity' && e.identity.handle), 'identity events carry handles');
  const updates = new Set(commits.filter((e) => e.commit.operation === 'update').map((e) => e.commit.collection));
  t.ok(updates.has('app.bsky.actor.profile'), 'profile updates');
  const collections = new Set(commits.map((e) => e.commit.collection));
  for (const c of ['app.bsky.graph.listitem', 'app.bsky.feed.threadgate', 'chat.bsky.actor.declaration', 'fm.teal.alpha.actor.status']) {
    t.ok(collections.has(c), `collection ${c} present`);
  }
  t.ok([...collections].some((c) => c.startsWith('sh.tangled.')), 'a sh.tangled.* collection');
  const deleted = new Set(commits.filter((e) => e.commit.operation === 'delete').map((e) => e.commit.collection));
  for (const c of ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.graph.follow', 'app.bsky.feed.repost']) t.ok(deleted.has(c), `deletes of ${c}`);
});

t.test('deletes refer to records created earlier in the stream, each at most once, with a later revision', async (t) => {
  const live = new Map<string, string>();
  let deletes = 0;
  const problems: string[] = [];
  const revOrder: string[] = [];
  for (const e of commits) {
    const key = `${e.did}/${e.commit.collection}/${e.commit.rkey}`;
    if (e.commit.operation === 'create') live.set(key, e.commit.rev);
    else if (e.commit.operation === 'delete') {
      deletes++;
      const createdRev = live.get(key);
      if (createdRev === undefined) problems.push(key);
      // The readers hide a record when a delete's revision is at or after its own (as a PDS orders commits).
      else if (e.commit.rev < createdRev) revOrder.push(`${key}: ${e.commit.rev} < ${createdRev}`);
      live.delete(key);
    }
  }
  t.ok(deletes > 500, `${deletes} deletes`);
  t.same(problems, [], 'every delete names a live record');
  t.same(revOrder, [], 'every delete is committed at or after its record');
});

t.test('identifiers have real formats and TIDs follow time', async (t) => {
  const bad: string[] = [];
  let web = 0;
  for (const e of events) {
    if (e.did.startsWith('did:web:')) web++;
    else if (!/^did:plc:[a-z2-7]{24}$/.test(e.did)) bad.push(`did ${e.did}`);
    if (e.kind !== 'commit') continue;
    const c = e.commit;
    if (!/^[2-7a-j][2-7a-z]{12}$/.test(c.rev)) bad.push(`rev ${c.rev}`);
    const [revUs] = parseTid(c.rev);
    if (revUs > e.time_us || revUs < e.time_us - 100_000) bad.push(`rev time ${c.rev} vs ${e.time_us}`);
    if (c.operation !== 'delete' && !/^bafyrei[a-z2-7]{51}[aeimquy4]$/.test(c.cid)) bad.push(`cid ${c.cid}`);
    if (c.operation === 'create' && /^app\.bsky\.(feed\.(like|post|repost)|graph\.(follow|block))$/.test(c.collection)) {
      const [rkeyUs] = parseTid(c.rkey);
      if (Math.abs(rkeyUs - e.time_us) > 30_000_000) bad.push(`rkey time ${c.rkey} vs ${e.time_us}`);
    }
  }
  t.same(bad.slice(0, 10), []);
  t.ok(web > 0, `${web} events from did:web accounts`);
});

t.test('facet byte offsets slice exactly the mention, link or tag text of the UTF-8 text', async (t) => {
  const kinds = { mention: 0, link: 0, tag: 0 };
  const bad: string[] = [];
  for (const { rec } of posts) {
    if (!rec.facets) continue;
    const bytes = Buffer.from(rec.text, 'utf8');
    for (const f of rec.facets) {
      const slice = bytes.subarray(f.index.byteStart, f.index.byteEnd).toString('utf8');
      for (const feat of f.features) {
        if (feat.$type === 'app.bsky.richtext.facet#mention') {
          kinds.mention++;
          if (!/^@[a-z0-9.-]+$/.test(slice)) bad.push(`mention ${slice}`);
        } else if (feat.$type === 'app.bsky.richtext.facet#link') {
          kinds.link++;
          const shown = slice.endsWith('...') ? slice.slice(0, -3) : slice;
          if (!feat.uri.replace(/^https:\/\//, '').startsWith(shown.replace(/^https:\/\//, ''))) bad.push(`link ${slice} vs ${feat.uri}`);
        } else {
          kinds.tag++;
          if (slice !== `#${feat.tag}`) bad.push(`tag ${slice} vs ${feat.tag}`);
        }
      }
    }
  }
  t.same(bad.slice(0, 10), []);
  t.ok(kinds.mention > 50 && kinds.link > 50 && kinds.tag > 50, JSON.stringify(kinds));
  t.ok(posts.some(({ rec }) => rec.facets?.length && Buffer.byteLength(rec.text) !== rec.text.length), 'facets over non-ASCII text');
});

t.test('posts look like real ones: languages, embeds, replies, labels, awkward values', async (t) => {
  const P = posts.length;
  const langs = new Set(posts.flatMap(({ rec }) => rec.langs ?? []));
  for (const l of ['en', 'ja', 'pt', 'es', 'de', 'ko']) t.ok(langs.has(l), `lang ${l}`);
  t.ok(posts.some(({ rec }) => rec.langs?.[0] === 'ja' && /[\u3040-\u30ff\u4e00-\u9fff]/.test(rec.text)), 'Japanese text');
  t.ok(posts.some(({ rec }) => rec.langs?.[0] === 'ko' && /[\uac00-\ud7a3]/.test(rec.text)), 'Korean text');
  t.ok(posts.some(({ rec }) => /\p{Extended_Pictographic}/u.test(rec.text)), 'emoji');
  const embeds = new Map<string, number>();
  for (const { rec } of posts) if (rec.embed) embeds.set(rec.embed.$type, (embeds.get(rec.embed.$type) ?? 0) + 1);
  for (const e of ['app.bsky.embed.images', 'app.bsky.embed.external', 'app.bsky.embed.record', 'app.bsky.embed.recordWithMedia']) t.ok((embeds.get(e) ?? 0) > 0, `embed ${e}`);
  const replies = posts.filter(({ rec }) => rec.reply);
  t.ok(replies.length / P > 0.3 && replies.length / P < 0.55, `replies ${(replies.length / P).toFixed(2)}`);
  const earlier = new Set<string>();
  let orphan = 0;
  for (const { rec, uri } of posts) {
    if (rec.reply && !earlier.has(rec.reply.parent.uri)) orphan++;
    earlier.add(uri);
  }
  t.equal(orphan, 0, 'every reply parent is an earlier generated post');
  t.ok(posts.some(({ rec }) => rec.labels?.$type === 'com.atproto.label.defs#selfLabels' && rec.labels.values.length), 'self-labels');
  t.ok(posts.some(({ rec }) => rec.tags?.length), 'tags');
  t.ok(posts.some(({ rec }) => rec.text === ''), 'empty text');
  t.ok(posts.some(({ rec }) => rec.text.includes('\n')), 'newlines');
  t.ok(posts.some(({ rec }) => rec.text.includes('"')), 'quotes');
  t.ok(posts.some(({ rec }) => rec.text.includes(',')), 'commas');
  let future = 0;
  let backdated = 0;
  let notDate = 0;
  for (const { e, rec } of posts) {
    const ms = Date.parse(rec.createdAt);
    if (!/^\d{4}-\d\d-\d\dT/.test(rec.createdAt) || Number.isNaN(ms)) notDate++;
    else if (ms > e.time_us / 1000 + 3_600_000) future++;
    else if (ms < e.time_us / 1000 - 365 * 86_400_000) backdated++;
  }
  t.ok(future > 0 && backdated > 0 && notDate > 0, `future ${future}, backdated ${backdated}, not a date ${notDate}`);
  t.ok(lines.some((l) => l.includes('\\u0026')), 'ampersands escaped the way Jetstream (Go) escapes them');
});

t.test('activity is Zipf-like: busy authors and popular posts', async (t) => {
  const perAuthor = new Map<string, number>();
  for (const { e } of posts) perAuthor.set(e.did, (perAuthor.get(e.did) ?? 0) + 1);
  const top = Math.max(...perAuthor.values());
  t.ok(top >= 20, `busiest author has ${top} posts`);
  t.ok(perAuthor.size > 1000, `${perAuthor.size} distinct authors`);
  const likes = creates.filter(({ c }) => c.collection === 'app.bsky.feed.like');
  const perSubject = new Map<string, number>();
  for (const { c } of likes) {
    const uri = (c.record as unknown as LikeRecord).subject.uri;
    perSubject.set(uri, (perSubject.get(uri) ?? 0) + 1);
  }
  t.ok(Math.max(...perSubject.values()) >= 10, `most-liked post has ${Math.max(...perSubject.values())} likes`);
  const generated = new Set(posts.map((p) => p.uri));
  const hit = likes.filter(({ c }) => generated.has((c.record as unknown as LikeRecord).subject.uri)).length;
  t.ok(hit / likes.length > 0.5, `${((hit / likes.length) * 100).toFixed(0)}% of likes hit generated posts`);
});

t.test('same seed gives identical bytes; another seed differs', async (t) => {
  const digest = (seed: string) => {
    const h = createHash('sha256');
    for (const l of generateEvents({ events: 5000, seed, start: START, rate: RATE })) h.update(l + '\n');
    return h.digest('hex');
  };
  t.equal(digest('test-seed'), digest('test-seed'));
  t.equal(digest('other'), digest('other'));
  t.not(digest('other'), digest('test-seed'));
});

t.test('account events carry the statuses real inactive accounts report', async (t) => {
  const statuses = new Map<string, number>();
  let mismatched = 0;
  for (const l of generateEvents({ events: 2000, seed: 'accounts', mix: { account: 1 } })) {
    const r = parseJetstreamEvent(l);
    if (!r.ok || r.event.kind !== 'account') throw new Error(`not an account event: ${l}`);
    const a = r.event.account;
    if (a.did !== r.event.did) mismatched++;
    const key = a.active ? 'active' : (a.status ?? 'inactive without status');
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }
  t.equal(mismatched, 0, 'account.did is the event did');
  t.same([...statuses.keys()].sort(), ['active', 'deactivated', 'deleted', 'desynchronized', 'suspended', 'takendown', 'throttled']);
});

t.test('the spec mix raises posts to the spec share', async (t) => {
  let postsSeen = 0;
  const n = 10_000;
  for (const l of generateEvents({ events: n, seed: 's', mix: 'spec' })) if (l.includes('"operation":"create","collection":"app.bsky.feed.post"')) postsSeen++;
  t.ok(Math.abs(postsSeen / n - 2.3 / 8.1) < 0.02, `spec posts share ${(postsSeen / n).toFixed(3)}`);
});

t.test('lines flagged ASCII (written without UTF-8 encoding) are pure ASCII', async (t) => {
  const gen = new EventGenerator({ events: 20_000, seed: 'ascii' });
  let flagged = 0;
  let wrong = 0;
  for (let l = gen.next(); l !== undefined; l = gen.next()) {
    if (!gen.meta.ascii) continue;
    flagged++;
    if (/[^\x00-\x7f]/.test(l)) wrong++;
  }
  t.equal(wrong, 0);
  t.ok(flagged > 15_000, `${flagged} lines flagged`);
});

/** Every JSON key path of a value (`.commit.record.embed.$type`, arrays as `[]`). */
function keyPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keyPaths(v, prefix + '[]', out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(prefix + '.' + k);
      keyPaths(v, prefix + '.' + k, out);
    }
  }
  return out;
}
const shapeKey = (e: JetstreamEvent) => (e.kind === 'commit' ? `${e.commit.operation}:${e.commit.collection}` : e.kind);

t.test('shapes are calibrated on the captured real events', async (t) => {
  const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
  const real = new Map<string, Set<string>>();
  for (const name of ['jetstream-real-152.jsonl', 'jetstream-golden-10.jsonl']) {
    for (const line of readFileSync(path.join(fixtures, name), 'utf8').split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as JetstreamEvent;
      const set = real.get(shapeKey(e)) ?? new Set<string>();
      keyPaths(e, '', set);
      real.set(shapeKey(e), set);
    }
  }
  const generated = new Map<string, Set<string>>();
  for (const e of events) {
    const set = generated.get(shapeKey(e)) ?? new Set<string>();
    keyPaths(e, '', set);
    generated.set(shapeKey(e), set);
  }
  // Lexicon fields the 162 captured events happen not to show.
  const lexiconExtras = /^\.(account\.status|identity\.handle|commit\.record\.(labels|tags|facets\[\]\.features\[\]\.did|embed\.(aspectRatio|media|record|video)))/;
  let compared = 0;
  for (const [key, realPaths] of real) {
    const genPaths = generated.get(key);
    if (!genPaths) continue;
    compared++;
    t.same([...realPaths].filter((p) => !genPaths.has(p)), [], `${key}: every real field is generated`);
    t.same([...genPaths].filter((p) => !realPaths.has(p) && !lexiconExtras.test(p)), [], `${key}: no invented fields`);
  }
  t.ok(compared >= 10, `${compared} event shapes compared`);
});
