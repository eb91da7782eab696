import { COLLECTIONS as NSID } from '../jetstream/collections.js';

/**
 * The `events` relation every firehose table's projection reads: one row per valid Jetstream event,
 * with the envelope already checked and typed by the flush (shared/flush). Column expressions in the
 * table definitions refer only to these columns.
 */
export const EVENT_COLUMNS = [
  { name: 'stream_id', type: 'VARCHAR', description: 'Redis stream entry ID.' },
  { name: 'did', type: 'VARCHAR', description: 'The repository / account DID.' },
  { name: 'time_us', type: 'BIGINT', description: 'Jetstream time_us (µs since the epoch).' },
  { name: 'kind', type: 'VARCHAR', description: 'commit, identity or account.' },
  { name: 'operation', type: 'VARCHAR', description: 'create, update or delete (commits).' },
  { name: 'collection', type: 'VARCHAR', description: 'NSID of the record collection (commits).' },
  { name: 'rkey', type: 'VARCHAR', description: 'Record key (commits).' },
  { name: 'rev', type: 'VARCHAR', description: 'Repository revision of the commit.' },
  { name: 'cid', type: 'VARCHAR', description: 'CID of the record (create/update).' },
  { name: 'record', type: 'JSON', description: 'The record (create/update).' },
  { name: 'identity', type: 'JSON', description: 'The identity object (identity events).' },
  { name: 'account', type: 'JSON', description: 'The account object (account events).' },
  { name: 'indexed_at', type: 'TIMESTAMPTZ', description: 'time_us as a UTC timestamp.' },
] as const;

/** Collections with their own table; every other collection goes to `records` (NSIDs from the event model). */
export const COLLECTIONS = {
  post: NSID.post,
  like: NSID.like,
  repost: NSID.repost,
  follow: NSID.follow,
  block: NSID.block,
  profile: NSID.profile,
} as const;

/** Oldest and newest `created_at` we keep; outside it (year 0, year 20260, …) the column is NULL. */
export const CREATED_AT_RANGE = { from: '1900-01-01 00:00:00+00', to: '2200-01-01 00:00:00+00' } as const;

/** `at://did/collection/rkey` of the event's record. */
export const URI_SQL = `'at://' || did || '/' || collection || '/' || rkey`;

/** A timestamp string inside the record parsed as TIMESTAMPTZ, NULL when it does not parse or is absurd. */
export function recordTimeSql(jsonPath: string): string {
  const ts = `try_cast((record->>'${jsonPath}') AS TIMESTAMPTZ)`;
  return `CASE WHEN ${ts} >= TIMESTAMPTZ '${CREATED_AT_RANGE.from}' AND ${ts} < TIMESTAMPTZ '${CREATED_AT_RANGE.to}' THEN ${ts} END`;
}

/** The record's `createdAt` (NULL when missing, unparseable or outside CREATED_AT_RANGE). */
export const CREATED_AT_SQL = recordTimeSql('$.createdAt');

/** A string list from a JSON path with `[*]`, never NULL, without NULL items. */
export function stringListSql(json: string, path: string): string {
  return `list_filter(coalesce(json_extract_string(${json}, '${path}'), []::VARCHAR[]), lambda x: x IS NOT NULL)`;
}

/** Values of one field of the rich-text facet features of a given `$type` (tags, mentions, links). */
export function facetFeatureSql(featureType: string, field: string): string {
  const features = `coalesce(json_extract(record, '$.facets[*].features[*]'), []::JSON[])`;
  return `list_filter(list_transform(list_filter(${features}, lambda f: (f->>'$."$type"') = '${featureType}'), lambda f: (f->>'$.${field}')), lambda x: x IS NOT NULL)`;
}
