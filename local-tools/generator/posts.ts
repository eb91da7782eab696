/**
 * Post records as real clients write them: multilingual text with facets, replies threaded on
 * earlier posts, quote / image / external / video / recordWithMedia embeds, self-labels, tags, empty
 * texts, and the odd `createdAt` values real data carries (future, years back, not a date at all).
 */
import type { Embed, EmbedImages, PostRecord } from '../../shared/jetstream/records.js';
import { isoMillis } from './time.js';
import { blob, clientTimeMs, subjectPost, type GenState } from './state.js';
import { composePost, makeLink, pickLanguage, sentence } from './text-model.js';
import type { PostRef } from './population.js';

const LABELS = ['porn', 'sexual', 'nudity', 'graphic-media', '!no-unauthenticated'];
const NOT_A_DATE = ['', 'not a date', '2024-13-45T99:99:99Z', '1719000000', 'yesterday', '0000-00-00T00:00:00Z'];
const REGIONAL: Record<string, string> = { en: 'en-US', pt: 'pt-BR', ja: 'ja-JP', es: 'es-MX', de: 'de-DE', fr: 'fr-FR' };

/** `createdAt` of a post: usually a correct ISO time near the event, sometimes one of real data's oddities. */
export function postCreatedAt(s: GenState): string {
  const rng = s.rng;
  const ms = clientTimeMs(s);
  const r = rng.float();
  if (r >= 0.02) return isoMillis(ms);
  if (r < 0.003) return isoMillis(ms + 3_600_000 + rng.exp(90 * 86_400_000)); // in the future
  if (r < 0.005) return isoMillis(ms - (1 + rng.int(15)) * 365.25 * 86_400_000 - rng.int(86_400_000)); // backdated years
  if (r < 0.006) return rng.pick(NOT_A_DATE);
  if (r < 0.0155) return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + '+00:00';
  return isoMillis(ms).slice(0, 23) + String(rng.int(1000)).padStart(3, '0') + 'Z'; // microseconds
}

function images(s: GenState, lang: string): EmbedImages {
  const rng = s.rng;
  const count = rng.float() < 0.7 ? 1 : 1 + rng.int(4);
  const list: EmbedImages['images'] = [];
  for (let i = 0; i < count; i++) {
    const width = rng.pick([889, 1000, 1080, 1200, 1536, 2000, 3024, 4000]);
    const height = Math.max(100, Math.round(width * rng.pick([1, 0.5625, 0.75, 1.333, 1.777])));
    list.push({
      alt: rng.float() < 0.35 ? sentence(rng, lang, 10) : '',
      aspectRatio: { height, width },
      image: blob(s, rng.float() < 0.85 ? 'image/jpeg' : 'image/png', 400_000),
    });
  }
  return { $type: 'app.bsky.embed.images', images: list };
}

function external(s: GenState, uri: string | undefined, lang: string): Embed {
  const rng = s.rng;
  const link = uri ?? makeLink(rng).uri;
  return {
    $type: 'app.bsky.embed.external',
    external: {
      description: rng.float() < 0.8 ? sentence(rng, lang, 14) : '',
      thumb: rng.float() < 0.7 ? blob(s, 'image/jpeg', 100_000) : undefined,
      title: sentence(rng, lang, 7),
      uri: link,
    },
  };
}

export interface BuiltPost {
  record: PostRecord;
  /** Root of the thread this post belongs to (itself when not a reply). */
  root: PostRef | undefined;
}

/** Builds a post by `author`; `planted` (with its language) puts a known phrase in the text. */
export function buildPost(s: GenState, author: number, planted?: { lang: string; phrase: string }): BuiltPost {
  const rng = s.rng;
  const lang = planted?.lang ?? pickLanguage(rng);
  const parent = rng.float() < 0.42 ? s.recentPosts.recent(rng) : undefined;
  const emptyText = !planted && rng.float() < 0.03;
  const composed = emptyText
    ? { text: '', facets: [], link: undefined }
    : composePost(rng, {
        lang,
        planted: planted?.phrase,
        leadingMention: parent !== undefined && rng.float() < 0.12,
        mention: () => {
          const who = parent && rng.float() < 0.5 ? parent.author : s.pop.pick(rng, 0.85);
          return { did: s.pop.did(who), handle: s.pop.handle(who) };
        },
      });

  let embed: Embed | undefined;
  const r = emptyText ? rng.float() * 0.14 : rng.float();
  if (r < 0.14) embed = images(s, lang);
  else if (r < 0.2 || (composed.link && r < 0.26)) embed = external(s, composed.link, lang);
  else if (r < 0.3) embed = { $type: 'app.bsky.embed.record', record: subjectPost(s) };
  else if (r < 0.31)
    embed = {
      $type: 'app.bsky.embed.recordWithMedia',
      media: images(s, lang),
      record: { $type: 'app.bsky.embed.record', record: subjectPost(s) },
    };
  else if (r < 0.32)
    embed = {
      $type: 'app.bsky.embed.video',
      aspectRatio: { height: 1920, width: 1080 },
      video: blob(s, 'video/mp4', 8_000_000),
    };

  let langs: string[] | undefined = [lang];
  const lr = rng.float();
  if (lr < 0.06 && !planted) langs = undefined;
  else if (lr < 0.09 && lang !== 'en') langs = [lang, 'en'];
  else if (lr < 0.11 && REGIONAL[lang]) langs = [REGIONAL[lang] as string, lang];

  const record: PostRecord = {
    $type: 'app.bsky.feed.post',
    createdAt: postCreatedAt(s),
    embed,
    facets: composed.facets.length ? composed.facets : undefined,
    labels: rng.float() < 0.012 ? { $type: 'com.atproto.label.defs#selfLabels', values: [{ val: rng.pick(LABELS) }] } : undefined,
    langs,
    reply: parent
      ? { parent: { cid: parent.cid, uri: parent.uri }, root: { cid: parent.rootCid, uri: parent.rootUri } }
      : undefined,
    tags: rng.float() < 0.005 ? ['art', 'wip'].slice(0, 1 + rng.int(2)) : undefined,
    text: composed.text,
  };
  return { record, root: parent };
}
