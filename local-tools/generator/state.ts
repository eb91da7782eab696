/** The generator's state that record builders read: randomness, accounts, recent records, time. */
import { blobCid, recordCid, tid } from './ids.js';
import type { Population, PostRef, Ring } from './population.js';
import type { Rng } from './prng.js';
import { isoMillis } from './time.js';
import type { Blob, StrongRef } from '../../shared/jetstream/records.js';

export interface GenState {
  readonly rng: Rng;
  readonly pop: Population;
  readonly recentPosts: Ring<PostRef>;
  readonly popularPosts: Ring<PostRef>;
  readonly reposts: Ring<StrongRef>;
  readonly lists: Ring<string>;
  /** Time of the event being built, µs. */
  nowUs: number;
}

/** A plausible client `createdAt` (ms) around the event time: mostly a little before, sometimes after. */
export function clientTimeMs(s: GenState): number {
  const skew = s.rng.float() < 0.15 ? -s.rng.exp(600) : s.rng.exp(900);
  return s.nowUs / 1000 - skew;
}

export function createdAt(s: GenState): string {
  return isoMillis(clientTimeMs(s));
}

/** A record key TID for a record the account creates now. */
export function newRkey(s: GenState, author: number): string {
  return tid(s.nowUs - s.rng.exp(400_000), s.pop.clockId(author));
}

export function blob(s: GenState, mimeType: string, meanSize: number): Blob {
  return { $type: 'blob', ref: { $link: blobCid(s.rng) }, mimeType, size: 1000 + Math.floor(s.rng.exp(meanSize)) };
}

/** A post that exists on the network but was created before this run (not in the output). */
export function olderPostRef(s: GenState): StrongRef {
  const author = s.pop.pick(s.rng, 0.8);
  const ageUs = s.rng.exp(3 * 86_400e6) + 60e6;
  const rkey = tid(s.nowUs - ageUs, s.pop.clockId(author));
  return { cid: recordCid(s.rng), uri: `at://${s.pop.did(author)}/app.bsky.feed.post/${rkey}` };
}

/** The post a like, repost or quote points at: popular and recent posts are favoured. */
export function subjectPost(s: GenState): StrongRef {
  const r = s.rng.float();
  const p = r < 0.35 ? s.popularPosts.any(s.rng) : r < 0.75 ? s.recentPosts.recent(s.rng) : undefined;
  return p ? { cid: p.cid, uri: p.uri } : olderPostRef(s);
}

/** The repost through which a like or repost was made (`via`). */
export function viaRepost(s: GenState): StrongRef {
  const known = s.reposts.recent(s.rng);
  if (known) return known;
  const author = s.pop.pick(s.rng, 0.6);
  return {
    cid: recordCid(s.rng),
    uri: `at://${s.pop.did(author)}/app.bsky.feed.repost/${tid(s.nowUs - s.rng.exp(3600e6), s.pop.clockId(author))}`,
  };
}
