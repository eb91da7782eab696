/**
 * What the generator emits, and in which proportions. `real` follows the public firehose in 2025–26
 * (about 47% likes, 33% follows, 9–10% posts, 6% reposts, then the long tail); `spec` keeps the same
 * tail but raises posts to the spec's share (2.3M posts in 8.1M events a day, ≈28%).
 */
export const ACTIONS = [
  'like',
  'follow',
  'post',
  'repost',
  'block',
  'listitem',
  'profileUpdate',
  'profileCreate',
  'deleteLike',
  'deleteFollow',
  'deletePost',
  'deleteRepost',
  'deleteBlock',
  'deleteListitem',
  'identity',
  'account',
  'threadgate',
  'postgate',
  'chatDeclaration',
  'frontpagePost',
  'tangledStar',
  'tangledRepo',
  'tangledFollow',
  'tealStatus',
  'actorStatus',
  'list',
  'starterpack',
  'feedGenerator',
  'streamPlace',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Percent of events per action in the real firehose (normalised when used). */
export const REAL_MIX: Readonly<Record<Action, number>> = {
  like: 47,
  follow: 33,
  post: 9.5,
  repost: 6,
  block: 0.8,
  listitem: 0.6,
  profileUpdate: 0.25,
  profileCreate: 0.05,
  deleteLike: 0.9,
  deleteFollow: 0.5,
  deletePost: 0.25,
  deleteRepost: 0.15,
  deleteBlock: 0.05,
  deleteListitem: 0.05,
  identity: 0.12,
  account: 0.08,
  threadgate: 0.15,
  postgate: 0.04,
  chatDeclaration: 0.04,
  frontpagePost: 0.02,
  tangledStar: 0.02,
  tangledRepo: 0.01,
  tangledFollow: 0.01,
  tealStatus: 0.12,
  actorStatus: 0.03,
  list: 0.02,
  starterpack: 0.01,
  feedGenerator: 0.01,
  streamPlace: 0.02,
};

/** The spec's volume: 2.3M posts among 8.1M events a day. */
export const SPEC_POST_SHARE = 2.3 / 8.1;

function withPostShare(base: Readonly<Record<Action, number>>, share: number): Record<Action, number> {
  const rest = Object.entries(base).reduce((s, [k, w]) => (k === 'post' ? s : s + w), 0);
  return { ...base, post: (share * rest) / (1 - share) };
}

export const SPEC_MIX: Readonly<Record<Action, number>> = withPostShare(REAL_MIX, SPEC_POST_SHARE);

export type MixName = 'real' | 'spec';
export const MIXES: Readonly<Record<MixName, Readonly<Record<Action, number>>>> = { real: REAL_MIX, spec: SPEC_MIX };

/** Events per day of each named volume. */
export const VOLUMES: Readonly<Record<MixName, number>> = { real: 30_000_000, spec: 8_100_000 };

/** Fraction of identity events immediately followed by an account event for the same DID. */
export const IDENTITY_ACCOUNT_PAIR = 0.5;
