import { createdAtColumn, indexedAtColumn, labelsColumn, operationColumn, recordColumn, recordIdColumns } from './columns.js';
import { COLLECTIONS, CREATED_AT_SQL, facetFeatureSql, stringListSql } from './events.js';
import type { TableDef } from './types.js';

const EMBED_TYPE = `(record->>'$.embed."$type"')`;
const MEDIA_TYPES = `('app.bsky.embed.images', 'app.bsky.embed.video')`;
const FACET_LINKS = facetFeatureSql('app.bsky.richtext.facet#link', 'uri');
const EXTERNAL_URI = `(record->>'$.embed.external.uri')`;

/** Posts (`app.bsky.feed.post`, created or updated): the table the search API reads. */
export const posts: TableDef = {
  name: 'posts',
  description: 'Posts (app.bsky.feed.post records, create and update), one row per event.',
  source: 'firehose',
  where: `kind = 'commit' AND collection = '${COLLECTIONS.post}' AND operation IN ('create', 'update')`,
  columns: [
    ...recordIdColumns('post', 'the author'),
    operationColumn,
    { name: 'text', type: 'VARCHAR', sql: `coalesce((record->>'$.text'), '')`, description: 'The post text.' },
    createdAtColumn,
    indexedAtColumn,
    {
      name: 'sort_at',
      type: 'TIMESTAMPTZ',
      sql: `least(coalesce(${CREATED_AT_SQL}, indexed_at), indexed_at)`,
      description: "The earlier of created_at and indexed_at (Bluesky AppView's sortAt): the API's time filters and ordering use it.",
    },
    {
      name: 'langs',
      type: 'VARCHAR[]',
      sql: stringListSql('record', '$.langs[*]'),
      dictionary: true,
      description: 'Languages the author declared (BCP-47 tags such as en, ja, pt-BR); empty when none.',
    },
    { name: 'reply_root_uri', type: 'VARCHAR', sql: `(record->>'$.reply.root.uri')`, description: 'URI of the thread root when the post is a reply.' },
    { name: 'reply_parent_uri', type: 'VARCHAR', sql: `(record->>'$.reply.parent.uri')`, description: 'URI of the post replied to.' },
    {
      name: 'quote_uri',
      type: 'VARCHAR',
      sql: `CASE ${EMBED_TYPE} WHEN 'app.bsky.embed.record' THEN (record->>'$.embed.record.uri') WHEN 'app.bsky.embed.recordWithMedia' THEN (record->>'$.embed.record.record.uri') END`,
      description: 'URI of the quoted record (embed.record or recordWithMedia).',
    },
    {
      name: 'embed_type',
      type: 'VARCHAR',
      sql: `regexp_replace(${EMBED_TYPE}, '^app\\.bsky\\.embed\\.', '')`,
      dictionary: true,
      description: 'Kind of embed without the app.bsky.embed. prefix: images, video, external, record, recordWithMedia; NULL when none.',
    },
    {
      name: 'has_media',
      type: 'BOOLEAN',
      sql: `coalesce(${EMBED_TYPE} IN ${MEDIA_TYPES} OR (${EMBED_TYPE} = 'app.bsky.embed.recordWithMedia' AND (record->>'$.embed.media."$type"') IN ${MEDIA_TYPES}), false)`,
      description: 'The post embeds images or a video (directly or next to a quote).',
    },
    {
      name: 'hashtags',
      type: 'VARCHAR[]',
      sql: `list_concat(${facetFeatureSql('app.bsky.richtext.facet#tag', 'tag')}, ${stringListSql('record', '$.tags[*]')})`,
      description: 'Hashtags without the # (tag facets, then the record\'s extra tags), as written.',
    },
    {
      name: 'mention_dids',
      type: 'VARCHAR[]',
      sql: facetFeatureSql('app.bsky.richtext.facet#mention', 'did'),
      description: 'DIDs of mentioned accounts (mention facets).',
    },
    {
      name: 'link_urls',
      type: 'VARCHAR[]',
      sql: `list_concat(${FACET_LINKS}, CASE WHEN ${EXTERNAL_URI} IS NOT NULL AND NOT list_contains(${FACET_LINKS}, ${EXTERNAL_URI}) THEN [${EXTERNAL_URI}] ELSE []::VARCHAR[] END)`,
      description: 'Linked URLs: link facets, then the external embed (link card) URL if not already listed.',
    },
    labelsColumn,
    recordColumn,
  ],
  dedupeKey: ['uri', 'rev'],
  // Time first: the API filters and orders posts by sort_at, so row groups prune on their min/max.
  sortKey: ['sort_at', 'uri'],
  timeColumn: 'sort_at',
  pointReads: true,
  searchText: 'text',
};
