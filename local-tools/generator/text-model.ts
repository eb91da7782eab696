/**
 * The post text model: per-language vocabularies sampled with a Zipf law, an invented long tail of
 * rare words, emoji, punctuation, newlines and quotes, and rich-text facets (mentions, links,
 * hashtags) whose byte offsets index the UTF-8 encoding of the text exactly. A few planted phrases,
 * which the model never produces otherwise, let tests and benchmarks know exactly which posts a
 * search must find. Exported for the query benchmark, which builds its dataset with it.
 */
import type { Facet, FacetFeature } from '../../shared/jetstream/records.js';
import { AliasTable, ZipfSampler, type Rng } from './prng.js';
import { EMOJI, LANGUAGE_WEIGHTS, LINK_DOMAINS, SYLLABLES, VOCAB, type LanguageVocab } from './vocab.js';

export { VOCAB, LANGUAGE_WEIGHTS, EMOJI } from './vocab.js';
export type { LanguageVocab } from './vocab.js';

/** Phrases planted in a few posts; no other generated text contains them (they use "qx"). */
export const PLANTED_PHRASES: ReadonlyArray<{ id: string; lang: string; phrase: string }> = [
  { id: 'rare-word-en', lang: 'en', phrase: 'qxenolith' },
  { id: 'phrase-en', lang: 'en', phrase: 'purple qxaardvark symphony' },
  { id: 'phrase-pt', lang: 'pt', phrase: 'saudade do qxurupira' },
  { id: 'word-ja', lang: 'ja', phrase: 'qx量子猫カフェ' },
  { id: 'word-de', lang: 'de', phrase: 'Qxüberraschungsei' },
  { id: 'phrase-es', lang: 'es', phrase: 'el qxajolote bailarín' },
];

/** Number of bytes of the UTF-8 encoding of `s` (without encoding it). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const languageCodes = LANGUAGE_WEIGHTS.map(([code]) => code);
const languageTable = new AliasTable(LANGUAGE_WEIGHTS.map(([, w]) => w));

/** A language code drawn with the real share of posts per language. */
/**
 * The first `max` UTF-16 units of `s`, never ending inside a surrogate pair: a lone surrogate is not
 * valid UTF-8, and the real (Go) Jetstream never sends one.
 */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

export function pickLanguage(rng: Rng): string {
  return languageCodes[languageTable.sample(rng)] as string;
}

export function vocabFor(lang: string): LanguageVocab {
  return VOCAB[lang] ?? (VOCAB.en as LanguageVocab);
}

/** The invented word with this index: 2–4 syllables, stable across runs. */
export function inventedWord(index: number): string {
  const n = SYLLABLES.length;
  let x = index;
  let out = '';
  const count = 2 + (index % 3);
  for (let i = 0; i < count; i++) {
    out += SYLLABLES[x % n];
    x = Math.floor(x / n) + i * 7 + 3;
  }
  return out;
}

const invented = new ZipfSampler(200_000, 1.15);
const wordSamplers = new Map<LanguageVocab, ZipfSampler>();

const phraseSamplers = new Map<LanguageVocab, ZipfSampler>();

function word(rng: Rng, v: LanguageVocab): string {
  const r = rng.float();
  if (v.latin && r < 0.03) return inventedWord(invented.sample(rng));
  if (r > 0.88) {
    let ps = phraseSamplers.get(v);
    if (!ps) phraseSamplers.set(v, (ps = new ZipfSampler(v.phrases.length, 0.8)));
    return v.phrases[ps.sample(rng)] as string;
  }
  let sampler = wordSamplers.get(v);
  if (!sampler) wordSamplers.set(v, (sampler = new ZipfSampler(v.words.length, 1.05)));
  return v.words[sampler.sample(rng)] as string;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** One sentence of `lang` with about `meanWords` words (no facets). */
export function sentence(rng: Rng, lang: string, meanWords = 8): string {
  const v = vocabFor(lang);
  const count = 1 + Math.min(40, Math.floor(rng.exp(meanWords - 1)));
  const sep = v.spaced ? ' ' : '';
  let out = v.latin ? capitalize(word(rng, v)) : word(rng, v);
  let closeQuote = '';
  for (let i = 1; i < count; i++) {
    const r = rng.float();
    if (r < 0.05 && v.spaced) out += ',';
    out += sep;
    if (closeQuote === '' && r > 0.985 && i < count - 1) {
      const straight = rng.chance(0.7);
      out += straight ? '"' : '“';
      closeQuote = straight ? '"' : '”';
    }
    out += word(rng, v);
  }
  out += closeQuote;
  out += rng.pick(v.ends);
  if (rng.float() < 0.15) out += (v.spaced ? ' ' : '') + rng.pick(EMOJI);
  return out;
}

/** A plain post body: 1–3 sentences, sometimes separated by newlines, sometimes with hashtags. */
export function makePostText(rng: Rng, lang: string = pickLanguage(rng)): string {
  const b = new RichTextBuilder();
  writeBody(rng, b, lang);
  if (rng.float() < 0.12) writeHashtags(rng, b, lang, false);
  return b.text;
}

/** Accumulates text and facets, tracking the UTF-8 byte offset as text is appended. */
export class RichTextBuilder {
  text = '';
  bytes = 0;
  facets: Facet[] = [];

  append(s: string): void {
    this.text += s;
    this.bytes += utf8Length(s);
  }

  /** Appends `display` and a facet covering exactly its bytes. */
  appendFacet(display: string, feature: FacetFeature): void {
    const start = this.bytes;
    this.append(display);
    this.facets.push({ features: [feature], index: { byteEnd: this.bytes, byteStart: start } });
  }
}

function writeBody(rng: Rng, b: RichTextBuilder, lang: string): void {
  const sentences = 1 + (rng.float() < 0.45 ? 1 : 0) + (rng.float() < 0.2 ? 1 : 0);
  const v = vocabFor(lang);
  for (let i = 0; i < sentences; i++) {
    if (i > 0) {
      const r = rng.float();
      b.append(r < 0.2 ? '\n\n' : r < 0.35 ? '\n' : v.spaced ? ' ' : '');
    }
    b.append(sentence(rng, lang, lang === 'ja' || lang === 'zh' ? 5 : 9));
  }
}

function writeHashtags(rng: Rng, b: RichTextBuilder, lang: string, facets: boolean): void {
  const v = vocabFor(lang);
  const count = 1 + (rng.float() < 0.4 ? 1 : 0) + (rng.float() < 0.2 ? 1 : 0);
  b.append(rng.chance(0.5) ? '\n\n' : ' ');
  for (let i = 0; i < count; i++) {
    if (i > 0) b.append(rng.chance(0.7) ? ' ' : '\n');
    const pool = rng.chance(0.8) ? v.hashtags : (VOCAB.en as LanguageVocab).hashtags;
    const tag = rng.chance(0.1) && v.latin ? capitalize(inventedWord(rng.zipf(5000, 1.2))) : (rng.pick(pool) as string);
    if (facets) b.appendFacet('#' + tag, { $type: 'app.bsky.richtext.facet#tag', tag });
    else b.append('#' + tag);
  }
}

export interface MentionTarget {
  did: string;
  handle: string;
}

export interface ComposeOptions {
  lang: string;
  /** Called when the post mentions someone. */
  mention: () => MentionTarget;
  /** Start with "@handle " (common in replies). */
  leadingMention?: boolean;
  linkChance?: number;
  hashtagChance?: number;
  mentionChance?: number;
  /** Text to put in the middle of the post (planted phrases). */
  planted?: string;
}

export interface ComposedText {
  text: string;
  facets: Facet[];
  /** The link the post's text points at, if any (reused for external embeds). */
  link: string | undefined;
}

/** A link URL and the shortened form Bluesky clients display for it. */
export function makeLink(rng: Rng): { uri: string; display: string } {
  const domain = rng.pick(LINK_DOMAINS);
  const path = `${rng.pick(['watch', 'p', 'article', 'story', 'post', '2026', 'news'])}/${rng.u32().toString(36)}${rng.chance(0.5) ? '-' + inventedWord(rng.int(50_000)) : ''}`;
  const query = rng.chance(0.15) ? `?utm_source=bsky&ref=${rng.u32().toString(36)}` : '';
  const uri = `https://${domain}/${path}${query}`;
  const bare = `${domain}/${path}${query}`;
  const display = rng.chance(0.2) ? uri : bare.length > 30 ? bare.slice(0, 27) + '...' : bare;
  return { uri, display };
}

/** A full post text with facets whose byte offsets slice exactly their mention, link or tag text. */
export function composePost(rng: Rng, opts: ComposeOptions): ComposedText {
  const b = new RichTextBuilder();
  const v = vocabFor(opts.lang);
  let link: string | undefined;
  if (opts.leadingMention) {
    const m = opts.mention();
    b.appendFacet('@' + m.handle, { $type: 'app.bsky.richtext.facet#mention', did: m.did });
    b.append(' ');
  }
  writeBody(rng, b, opts.lang);
  if (opts.planted !== undefined) {
    b.append(v.spaced ? ', ' : '、');
    b.append(opts.planted);
    b.append(v.spaced ? ' ' : '');
    b.append(sentence(rng, opts.lang));
  }
  if (rng.float() < (opts.mentionChance ?? 0.06)) {
    const m = opts.mention();
    b.append(v.spaced ? ' cc ' : ' ');
    b.appendFacet('@' + m.handle, { $type: 'app.bsky.richtext.facet#mention', did: m.did });
  }
  if (rng.float() < (opts.linkChance ?? 0.1)) {
    const l = makeLink(rng);
    link = l.uri;
    b.append(rng.chance(0.6) ? '\n\n' : ' ');
    b.appendFacet(l.display, { $type: 'app.bsky.richtext.facet#link', uri: l.uri });
  }
  if (rng.float() < (opts.hashtagChance ?? 0.1)) writeHashtags(rng, b, opts.lang, true);
  return { text: b.text, facets: b.facets, link };
}
