/**
 * Collection NSIDs seen on the Jetstream firehose. The Bluesky app's own record types come first;
 * the rest are other AT Protocol apps whose records the pipeline keeps in the generic `records` table.
 */
export const COLLECTIONS = {
  post: 'app.bsky.feed.post',
  like: 'app.bsky.feed.like',
  repost: 'app.bsky.feed.repost',
  threadgate: 'app.bsky.feed.threadgate',
  postgate: 'app.bsky.feed.postgate',
  feedGenerator: 'app.bsky.feed.generator',
  follow: 'app.bsky.graph.follow',
  block: 'app.bsky.graph.block',
  list: 'app.bsky.graph.list',
  listitem: 'app.bsky.graph.listitem',
  listblock: 'app.bsky.graph.listblock',
  starterpack: 'app.bsky.graph.starterpack',
  profile: 'app.bsky.actor.profile',
  actorStatus: 'app.bsky.actor.status',
  chatDeclaration: 'chat.bsky.actor.declaration',
  frontpagePost: 'fyi.unravel.frontpage.post',
  tangledStar: 'sh.tangled.feed.star',
  tangledRepo: 'sh.tangled.repo',
  tangledFollow: 'sh.tangled.graph.follow',
  tealStatus: 'fm.teal.alpha.actor.status',
  streamPlaceOrigin: 'place.stream.broadcast.origin',
} as const;

export type KnownCollection = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];

/** `$type` values used inside records (embeds, facets, labels, blobs). */
export const LEXICON = {
  embedImages: 'app.bsky.embed.images',
  embedExternal: 'app.bsky.embed.external',
  embedRecord: 'app.bsky.embed.record',
  embedRecordWithMedia: 'app.bsky.embed.recordWithMedia',
  embedVideo: 'app.bsky.embed.video',
  facetMention: 'app.bsky.richtext.facet#mention',
  facetLink: 'app.bsky.richtext.facet#link',
  facetTag: 'app.bsky.richtext.facet#tag',
  selfLabels: 'com.atproto.label.defs#selfLabels',
  blob: 'blob',
} as const;

/** Statuses an inactive account reports in an `account` event. */
export const ACCOUNT_STATUSES = ['deactivated', 'takendown', 'suspended', 'deleted', 'desynchronized', 'throttled'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
