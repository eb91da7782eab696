/**
 * Records of the long tail: profiles, lists, and other apps' collections (thread/post gates, chat
 * declarations, Frontpage, Tangled, teal.fm, stream.place, live status), shaped like the captured ones.
 */
import type { ProfileRecord } from '../../shared/jetstream/records.js';
import { recordCid, tid } from './ids.js';
import { blob, createdAt, type GenState } from './state.js';
import { inventedWord, makeLink, pickLanguage, sentence, truncateText } from './text-model.js';
import { isoMillis } from './time.js';
import { EMOJI } from './vocab.js';

type Rec = { $type: string; [k: string]: unknown };

export function profileRecord(s: GenState, author: number, fresh: boolean): ProfileRecord {
  const rng = s.rng;
  const lang = pickLanguage(rng);
  const since = fresh ? createdAt(s) : isoMillis(s.nowUs / 1000 - rng.exp(400 * 86_400_000) - 86_400_000);
  const pinned = !fresh && rng.float() < 0.3;
  return {
    $type: 'app.bsky.actor.profile',
    avatar: fresh && rng.float() < 0.5 ? undefined : blob(s, 'image/jpeg', 300_000),
    banner: rng.float() < (fresh ? 0.2 : 0.7) ? blob(s, 'image/jpeg', 200_000) : undefined,
    createdAt: since,
    description: rng.float() < 0.8 ? sentence(rng, lang, 12) + (rng.float() < 0.3 ? '\n' + sentence(rng, lang, 5) : '') : undefined,
    displayName: s.pop.displayName(author) + (rng.float() < 0.15 ? ' ' + rng.pick(EMOJI) : ''),
    pinnedPost: pinned
      ? { cid: recordCid(rng), uri: `at://${s.pop.did(author)}/app.bsky.feed.post/${tid(s.nowUs - rng.exp(30 * 86_400e6), s.pop.clockId(author))}` }
      : undefined,
  };
}

export function listRecord(s: GenState): Rec {
  const rng = s.rng;
  const mod = rng.float() < 0.3;
  return {
    $type: 'app.bsky.graph.list',
    createdAt: createdAt(s),
    description: sentence(rng, 'en', 8),
    name: truncateText(sentence(rng, 'en', 3), 60),
    purpose: mod ? 'app.bsky.graph.defs#modlist' : 'app.bsky.graph.defs#curatelist',
  };
}

/** A list URI items can be added to: one generated in this run or an older one. */
export function someList(s: GenState): string {
  const known = s.lists.any(s.rng);
  if (known && s.rng.float() < 0.6) return known;
  const owner = s.pop.pick(s.rng, 0.9);
  return `at://${s.pop.did(owner)}/app.bsky.graph.list/${tid(s.nowUs - s.rng.exp(30 * 86_400e6), s.pop.clockId(owner))}`;
}

export function threadgateRecord(s: GenState, postUri: string): Rec {
  const rng = s.rng;
  const rules = ['app.bsky.feed.threadgate#mentionRule', 'app.bsky.feed.threadgate#followingRule', 'app.bsky.feed.threadgate#followerRule'];
  return {
    $type: 'app.bsky.feed.threadgate',
    allow: rng.float() < 0.2 ? [] : [{ $type: rng.pick(rules) }],
    createdAt: createdAt(s),
    hiddenReplies: [],
    post: postUri,
  };
}

export function postgateRecord(s: GenState, postUri: string): Rec {
  return {
    $type: 'app.bsky.feed.postgate',
    createdAt: createdAt(s),
    detachedEmbeddingUris: [],
    embeddingRules: [{ $type: 'app.bsky.feed.postgate#disableRule' }],
    post: postUri,
  };
}

export function chatDeclarationRecord(s: GenState): Rec {
  return { $type: 'chat.bsky.actor.declaration', allowIncoming: s.rng.pick(['following', 'all', 'none']) };
}

export function frontpagePostRecord(s: GenState): Rec {
  return { $type: 'fyi.unravel.frontpage.post', createdAt: createdAt(s), title: sentence(s.rng, 'en', 8), url: makeLink(s.rng).uri };
}

export function tangledRepoRecord(s: GenState): Rec {
  return {
    $type: 'sh.tangled.repo',
    createdAt: createdAt(s),
    knot: s.rng.pick(['knot1.tangled.sh', 'knot.example.dev']),
    name: inventedWord(s.rng.int(100_000)),
  };
}

export function tangledStarRecord(s: GenState): Rec {
  const owner = s.pop.pick(s.rng, 0.9);
  return {
    $type: 'sh.tangled.feed.star',
    createdAt: createdAt(s),
    subject: `at://${s.pop.did(owner)}/sh.tangled.repo/${tid(s.nowUs - s.rng.exp(60 * 86_400e6), s.pop.clockId(owner))}`,
  };
}

export function tangledFollowRecord(s: GenState): Rec {
  return { $type: 'sh.tangled.graph.follow', createdAt: createdAt(s), subject: s.pop.did(s.pop.pick(s.rng, 0.9)) };
}

const ARTISTS = ['Dianna Lopez', 'Hikaru Utada', 'Caetano Veloso', 'Rosalía', 'Kraftwerk', 'NewJeans', 'Björk', 'Stromae'];

export function tealStatusRecord(s: GenState): Rec {
  const rng = s.rng;
  const nowMs = s.nowUs / 1000;
  const track = sentence(rng, 'en', 3).replace(/[.!?…]+$/, '');
  return {
    $type: 'fm.teal.alpha.actor.status',
    expiry: isoMillis(nowMs + 600_000),
    item: {
      artists: [{ artistName: rng.pick(ARTISTS) }],
      duration: rng.float() < 0.5 ? null : 120 + rng.int(300),
      playedTime: isoMillis(nowMs - rng.exp(3_600_000)),
      releaseName: track,
      submissionClientAgent: rng.pick(['multi-scrobbler/0.14.1', 'piper/0.2.0', 'teal.fm/web']),
      trackName: track,
    },
    time: isoMillis(nowMs),
  };
}

export function actorStatusRecord(s: GenState): Rec {
  const rng = s.rng;
  const link = makeLink(rng);
  return {
    $type: 'app.bsky.actor.status',
    createdAt: createdAt(s),
    durationMinutes: rng.pick([30, 60, 120, 240]),
    embed: {
      $type: 'app.bsky.embed.external',
      external: {
        $type: 'app.bsky.embed.external#external',
        description: sentence(rng, 'en', 10),
        thumb: blob(s, 'image/jpeg', 100_000),
        title: sentence(rng, 'en', 4),
        uri: link.uri,
      },
    },
    status: 'app.bsky.actor.status#live',
  };
}

export function starterpackRecord(s: GenState, list: string): Rec {
  return { $type: 'app.bsky.graph.starterpack', createdAt: createdAt(s), description: sentence(s.rng, 'en', 10), list, name: sentence(s.rng, 'en', 3) };
}

export function feedGeneratorRecord(s: GenState): Rec {
  return {
    $type: 'app.bsky.feed.generator',
    createdAt: createdAt(s),
    description: sentence(s.rng, 'en', 12),
    did: 'did:web:feeds.' + inventedWord(s.rng.int(1000)) + '.net',
    displayName: truncateText(sentence(s.rng, 'en', 2), 24),
  };
}

export function streamPlaceRecord(s: GenState, did: string): Rec {
  const server = `did:web:prod-${s.rng.pick(['sea0', 'nyc1', 'fra0'])}.stream.place`;
  return {
    $type: 'place.stream.broadcast.origin',
    broadcaster: 'did:web:stream.place',
    server,
    streamer: did,
    updatedAt: isoMillis(s.nowUs / 1000),
    websocketURL: `wss://${server.slice(8)}/xrpc/place.stream.live.subscribeSegments?streamer=${encodeURIComponent(did)}`,
  };
}

/** Feed generators use short readable record keys. */
export function feedRkey(s: GenState): string {
  return inventedWord(s.rng.int(20_000));
}
