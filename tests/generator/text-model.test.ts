import t from 'tap';
import fc from 'fast-check';
import { Rng } from '../../local-tools/generator/prng.js';
import { parseTid, tid } from '../../local-tools/generator/ids.js';
import { composePost, makePostText, PLANTED_PHRASES, truncateText, utf8Length, VOCAB } from '../../local-tools/generator/text-model.js';
import { parseCli } from '../../local-tools/generator/main.js';

t.test('truncateText never cuts a surrogate pair and keeps at most max units', async (t) => {
  t.equal(truncateText('ab😀cd', 3), 'ab', 'the pair that would be cut is left out whole');
  t.equal(truncateText('ab😀cd', 4), 'ab😀');
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 40 }), (s, max) => {
      const out = truncateText(s, max);
      return out.length <= max && s.startsWith(out) && !/[\uD800-\uDBFF]$/.test(out);
    }),
  );
});

t.test('utf8Length equals the real UTF-8 byte length', async (t) => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => utf8Length(s) === Buffer.byteLength(s)));
  t.equal(utf8Length('a🏳️‍🌈é日'), Buffer.byteLength('a🏳️‍🌈é日'));
});

t.test('composed facets cover exactly their text in every language', async (t) => {
  const rng = new Rng('facets');
  let facets = 0;
  const bad: string[] = [];
  for (const lang of Object.keys(VOCAB)) {
    for (let i = 0; i < 300; i++) {
      const post = composePost(rng, { lang, mention: () => ({ did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', handle: 'ünï.bsky.social' }), leadingMention: i % 3 === 0, linkChance: 0.5, hashtagChance: 0.5, mentionChance: 0.3 });
      const bytes = Buffer.from(post.text);
      for (const f of post.facets) {
        facets++;
        const slice = bytes.subarray(f.index.byteStart, f.index.byteEnd).toString();
        const feat = f.features[0];
        const ok =
          feat?.$type === 'app.bsky.richtext.facet#tag'
            ? slice === '#' + feat.tag
            : feat?.$type === 'app.bsky.richtext.facet#mention'
              ? slice === '@ünï.bsky.social'
              : slice.length > 0 && feat?.uri.startsWith('https://') === true;
        if (!ok) bad.push(`${lang}: ${slice} ${JSON.stringify(feat)}`);
      }
    }
  }
  t.same(bad.slice(0, 10), []);
  t.ok(facets > 1000, `${facets} facets`);
});

t.test('the text model never produces a planted phrase by itself', async (t) => {
  const rng = new Rng('plain');
  let hits = 0;
  for (let i = 0; i < 20_000; i++) {
    const text = makePostText(rng).toLowerCase();
    if (text.includes('qx')) hits++;
  }
  t.equal(hits, 0);
  t.ok(PLANTED_PHRASES.every((p) => p.phrase.toLowerCase().includes('qx')));
});

t.test('TIDs are 13 sortable chars that round-trip their time and clock id', async (t) => {
  t.equal(tid(1779719009132431, 0).length, 13);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.integer({ min: 0, max: 1023 }), (us, clk) => {
      const s = tid(us, clk);
      const [back, c] = parseTid(s);
      return s.length === 13 && back === us && c === clk;
    }),
  );
  // Sortable: string order follows time order.
  t.ok(tid(1_700_000_000_000_000, 5) < tid(1_700_000_000_000_001, 0));
  // A real rev from the captured fixtures decodes to a time just before its event's time_us.
  const [us] = parseTid('3mmoojp7vgo2g');
  t.ok(us <= 1779719009132431 && us > 1779719009132431 - 1_000_000, `decoded ${us}`);
});

t.test('CLI arguments: volume shorthand, defaults and errors', async (t) => {
  const real = parseCli(['--volume', 'real', '--days', '2', '--out', 'x.jsonl.gz']);
  t.equal(real.events, 60_000_000);
  t.equal(real.mix, 'real');
  t.ok(Math.abs((real.rate as number) - 30_000_000 / 86_400) < 1e-9);
  const spec = parseCli(['--volume', 'spec', '--out', 'x.jsonl.gz']);
  t.equal(spec.events, 8_100_000);
  t.equal(spec.mix, 'spec');
  const plain = parseCli(['--events', '10', '--out', 'x.jsonl']);
  t.same([plain.seed, plain.rate, plain.mix, plain.start], ['bsky', 400, 'real', '2026-07-01T00:00:00.000Z']);
  t.throws(() => parseCli(['--events', '10']), /--out is required/);
  t.throws(() => parseCli(['--events', '-1', '--out', 'x']), /--events/);
  t.throws(() => parseCli(['--events', '1', '--out', 'x', '--rate', '0']), /--rate/);
  t.throws(() => parseCli(['--events', '1', '--out', 'x', '--start', 'soon']), /--start/);
  t.throws(() => parseCli(['--events', '1', '--out', 'x', '--mix', 'fast']), /--mix/);
  t.throws(() => parseCli(['--days', '1', '--out', 'x']), /--days needs --volume/);
  t.throws(() => parseCli(['--events', '1', '--out', 'x', '--bogus']), /bogus/);
});
