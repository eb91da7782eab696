import { createdAtColumn, indexedAtColumn, labelsColumn, operationColumn, recordColumn, recordIdColumns } from './columns.js';
import { COLLECTIONS, URI_SQL } from './events.js';
import type { TableDef } from './types.js';
import { uriKeyColumn } from './uri-key.js';

const OWN_TABLE_COLLECTIONS = Object.values(COLLECTIONS)
  .map((c) => `'${c}'`)
  .join(', ');

/** Profiles (`app.bsky.actor.profile`, rkey `self`): the profile record's fields. */
export const profiles: TableDef = {
  name: 'profiles',
  description: 'Profile records (app.bsky.actor.profile), one row per create/update event.',
  source: 'firehose',
  where: `kind = 'commit' AND collection = '${COLLECTIONS.profile}' AND operation IN ('create', 'update')`,
  columns: [
    ...recordIdColumns('profile record', 'the account whose profile it is'),
    operationColumn,
    { name: 'display_name', type: 'VARCHAR', sql: `(record->>'$.displayName')`, description: 'Display name.' },
    { name: 'description', type: 'VARCHAR', sql: `(record->>'$.description')`, description: 'Profile description (bio).' },
    { name: 'avatar_cid', type: 'VARCHAR', sql: `(record->>'$.avatar.ref."$link"')`, description: 'CID of the avatar image blob.' },
    { name: 'banner_cid', type: 'VARCHAR', sql: `(record->>'$.banner.ref."$link"')`, description: 'CID of the banner image blob.' },
    { name: 'pinned_post_uri', type: 'VARCHAR', sql: `(record->>'$.pinnedPost.uri')`, description: 'URI of the pinned post.' },
    labelsColumn,
    createdAtColumn,
    indexedAtColumn,
    recordColumn,
  ],
  dedupeKey: ['uri', 'rev'],
  sortKey: ['author_did', 'indexed_at'],
  timeColumn: 'indexed_at',
};

/** Every other collection, so nothing on the firehose is thrown away. */
export const records: TableDef = {
  name: 'records',
  description: 'Records of every collection without its own table (lists, feeds, third-party apps…), create and update.',
  source: 'firehose',
  where: `kind = 'commit' AND operation IN ('create', 'update') AND collection NOT IN (${OWN_TABLE_COLLECTIONS})`,
  columns: [
    ...recordIdColumns('record'),
    { name: 'collection', type: 'VARCHAR', sql: 'collection', dictionary: true, description: 'NSID of the collection (e.g. app.bsky.graph.listitem).' },
    operationColumn,
    createdAtColumn,
    indexedAtColumn,
    recordColumn,
  ],
  dedupeKey: ['uri', 'rev'],
  sortKey: ['collection', 'author_did', 'indexed_at'],
  timeColumn: 'indexed_at',
};

/** Every delete, of any collection: the API hides deleted posts with it and compaction purges them. */
export const deletes: TableDef = {
  name: 'deletes',
  description: 'Delete operations of every collection (posts, likes, follows, …).',
  source: 'firehose',
  where: `kind = 'commit' AND operation = 'delete'`,
  columns: [
    { name: 'uri', type: 'VARCHAR', sql: URI_SQL, description: 'AT URI of the deleted record.' },
    uriKeyColumn(URI_SQL),
    { name: 'collection', type: 'VARCHAR', sql: 'collection', dictionary: true, description: 'NSID of the collection.' },
    { name: 'author_did', type: 'VARCHAR', sql: 'did', dictionary: true, description: 'DID of the account that deleted it.' },
    { name: 'rkey', type: 'VARCHAR', sql: 'rkey', description: 'Record key.' },
    { name: 'rev', type: 'VARCHAR', sql: 'rev', description: 'Repository revision of the delete commit.' },
    indexedAtColumn,
  ],
  dedupeKey: ['uri', 'rev'],
  sortKey: ['uri'],
  timeColumn: 'indexed_at',
};

/** Identity events (handle changes, DID document updates). */
export const identities: TableDef = {
  name: 'identities',
  description: 'Identity events: an account changed its handle or DID document.',
  source: 'firehose',
  where: `kind = 'identity'`,
  columns: [
    { name: 'did', type: 'VARCHAR', sql: 'did', dictionary: true, description: 'DID of the account.' },
    { name: 'handle', type: 'VARCHAR', sql: `("identity"->>'$.handle')`, description: 'The new handle; NULL when the event did not carry one.' },
    { name: 'seq', type: 'BIGINT', sql: `try_cast(("identity"->>'$.seq') AS BIGINT)`, description: 'Relay sequence number.' },
    { name: 'event_time', type: 'TIMESTAMPTZ', sql: `try_cast(("identity"->>'$.time') AS TIMESTAMPTZ)`, description: 'Time the relay gives the event.' },
    indexedAtColumn,
  ],
  dedupeKey: ['did', 'seq', 'indexed_at'],
  sortKey: ['did', 'indexed_at'],
  timeColumn: 'indexed_at',
};

/** Account events (activation, deactivation, takedown, deletion). */
export const accounts: TableDef = {
  name: 'accounts',
  description: 'Account status events: activated, deactivated, suspended, taken down, deleted.',
  source: 'firehose',
  where: `kind = 'account'`,
  columns: [
    { name: 'did', type: 'VARCHAR', sql: 'did', dictionary: true, description: 'DID of the account.' },
    { name: 'active', type: 'BOOLEAN', sql: `try_cast(("account"->>'$.active') AS BOOLEAN)`, description: 'Whether the account is active.' },
    { name: 'status', type: 'VARCHAR', sql: `("account"->>'$.status')`, dictionary: true, description: 'Why it is inactive: deactivated, suspended, takendown, deleted, …; NULL when active.' },
    { name: 'seq', type: 'BIGINT', sql: `try_cast(("account"->>'$.seq') AS BIGINT)`, description: 'Relay sequence number.' },
    { name: 'event_time', type: 'TIMESTAMPTZ', sql: `try_cast(("account"->>'$.time') AS TIMESTAMPTZ)`, description: 'Time the relay gives the event.' },
    indexedAtColumn,
  ],
  dedupeKey: ['did', 'seq', 'indexed_at'],
  sortKey: ['did', 'indexed_at'],
  timeColumn: 'indexed_at',
};
