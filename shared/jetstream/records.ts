/**
 * Typed shapes of the Bluesky records the pipeline reads (posts, likes, reposts, follows, blocks,
 * profiles, list items). They describe well-formed records; real data breaks them (a `createdAt` that
 * is not a date, unknown embed types), so readers must treat every field as possibly absent or odd.
 * Keys follow Jetstream's own output order (alphabetical inside records).
 */
import { Type, type Static } from '@sinclair/typebox';

export const StrongRefSchema = Type.Object({ cid: Type.String(), uri: Type.String() });
export type StrongRef = Static<typeof StrongRefSchema>;

export const BlobSchema = Type.Object({
  $type: Type.Literal('blob'),
  ref: Type.Object({ $link: Type.String() }),
  mimeType: Type.String(),
  size: Type.Integer({ minimum: 0 }),
});
export type Blob = Static<typeof BlobSchema>;

export const FacetFeatureSchema = Type.Union([
  Type.Object({ $type: Type.Literal('app.bsky.richtext.facet#mention'), did: Type.String() }),
  Type.Object({ $type: Type.Literal('app.bsky.richtext.facet#link'), uri: Type.String() }),
  Type.Object({ $type: Type.Literal('app.bsky.richtext.facet#tag'), tag: Type.String() }),
]);
export type FacetFeature = Static<typeof FacetFeatureSchema>;

/** `byteStart`/`byteEnd` index the UTF-8 encoding of the post text, end exclusive. */
export const FacetSchema = Type.Object({
  features: Type.Array(FacetFeatureSchema),
  index: Type.Object({ byteEnd: Type.Integer({ minimum: 0 }), byteStart: Type.Integer({ minimum: 0 }) }),
});
export type Facet = Static<typeof FacetSchema>;

export const ImageSchema = Type.Object({
  alt: Type.String(),
  aspectRatio: Type.Optional(Type.Object({ height: Type.Integer(), width: Type.Integer() })),
  image: BlobSchema,
});
export const EmbedImagesSchema = Type.Object({ $type: Type.Literal('app.bsky.embed.images'), images: Type.Array(ImageSchema) });
export const EmbedExternalSchema = Type.Object({
  $type: Type.Literal('app.bsky.embed.external'),
  external: Type.Object({
    description: Type.String(),
    thumb: Type.Optional(BlobSchema),
    title: Type.String(),
    uri: Type.String(),
  }),
});
export const EmbedRecordSchema = Type.Object({ $type: Type.Literal('app.bsky.embed.record'), record: StrongRefSchema });
export const EmbedVideoSchema = Type.Object({
  $type: Type.Literal('app.bsky.embed.video'),
  aspectRatio: Type.Optional(Type.Object({ height: Type.Integer(), width: Type.Integer() })),
  video: BlobSchema,
});
export const EmbedRecordWithMediaSchema = Type.Object({
  $type: Type.Literal('app.bsky.embed.recordWithMedia'),
  media: Type.Union([EmbedImagesSchema, EmbedExternalSchema, EmbedVideoSchema]),
  record: EmbedRecordSchema,
});
export const EmbedSchema = Type.Union([
  EmbedImagesSchema,
  EmbedExternalSchema,
  EmbedRecordSchema,
  EmbedRecordWithMediaSchema,
  EmbedVideoSchema,
]);
export type Embed = Static<typeof EmbedSchema>;
export type EmbedImages = Static<typeof EmbedImagesSchema>;

export const SelfLabelsSchema = Type.Object({
  $type: Type.Literal('com.atproto.label.defs#selfLabels'),
  values: Type.Array(Type.Object({ val: Type.String() })),
});

export const PostRecordSchema = Type.Object({
  $type: Type.Literal('app.bsky.feed.post'),
  createdAt: Type.String(),
  embed: Type.Optional(EmbedSchema),
  facets: Type.Optional(Type.Array(FacetSchema)),
  labels: Type.Optional(SelfLabelsSchema),
  langs: Type.Optional(Type.Array(Type.String())),
  reply: Type.Optional(Type.Object({ parent: StrongRefSchema, root: StrongRefSchema })),
  tags: Type.Optional(Type.Array(Type.String())),
  text: Type.String(),
});
export type PostRecord = Static<typeof PostRecordSchema>;

export const LikeRecordSchema = Type.Object({
  $type: Type.Literal('app.bsky.feed.like'),
  createdAt: Type.String(),
  subject: StrongRefSchema,
  via: Type.Optional(StrongRefSchema),
});
export type LikeRecord = Static<typeof LikeRecordSchema>;

export const RepostRecordSchema = Type.Object({
  $type: Type.Literal('app.bsky.feed.repost'),
  createdAt: Type.String(),
  subject: StrongRefSchema,
  via: Type.Optional(StrongRefSchema),
});
export type RepostRecord = Static<typeof RepostRecordSchema>;

export const FollowRecordSchema = Type.Object({
  $type: Type.Literal('app.bsky.graph.follow'),
  createdAt: Type.String(),
  subject: Type.String(),
});
export type FollowRecord = Static<typeof FollowRecordSchema>;

export const BlockRecordSchema = Type.Object({
  $type: Type.Literal('app.bsky.graph.block'),
  createdAt: Type.String(),
  subject: Type.String(),
});
export type BlockRecord = Static<typeof BlockRecordSchema>;

export const ListItemRecordSchema = Type.Object({
  $type: Type.Literal('app.bsky.graph.listitem'),
  createdAt: Type.String(),
  list: Type.String(),
  subject: Type.String(),
});
export type ListItemRecord = Static<typeof ListItemRecordSchema>;

export const ProfileRecordSchema = Type.Object({
  $type: Type.Literal('app.bsky.actor.profile'),
  avatar: Type.Optional(BlobSchema),
  banner: Type.Optional(BlobSchema),
  createdAt: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  displayName: Type.Optional(Type.String()),
  pinnedPost: Type.Optional(StrongRefSchema),
});
export type ProfileRecord = Static<typeof ProfileRecordSchema>;
