import { createdAtColumn, indexedAtColumn, operationColumn, recordIdColumns } from './columns.js';
import { COLLECTIONS } from './events.js';
import type { TableDef } from './types.js';

function commitWhere(collection: string): string {
  return `kind = 'commit' AND collection = '${collection}' AND operation IN ('create', 'update')`;
}

/** likes and reposts: a record pointing at a post (strong ref: uri + cid). */
function subjectRefTable(name: 'likes' | 'reposts', collection: string, what: string): TableDef {
  return {
    name,
    description: `${what[0]!.toUpperCase()}${what.slice(1)}s (${collection} records), one row per create/update event.`,
    source: 'firehose',
    where: commitWhere(collection),
    columns: [
      ...recordIdColumns(what, `the account that made the ${what}`, { compact: true }),
      operationColumn,
      { name: 'subject_uri', type: 'VARCHAR', sql: `(record->>'$.subject.uri')`, description: `URI of the ${what}d post (or other record).` },
      { name: 'subject_cid', type: 'VARCHAR', sql: `(record->>'$.subject.cid')`, description: `CID of the ${what}d record version.` },
      createdAtColumn,
      indexedAtColumn,
    ],
    dedupeKey: ['uri', 'rev'],
    // Grouped by the post they point at: the counts function looks likes/reposts up by subject_uri.
    sortKey: ['subject_uri', 'indexed_at'],
    timeColumn: 'indexed_at',
  };
}

/** follows and blocks: a record pointing at an account (subject DID). */
function subjectDidTable(name: 'follows' | 'blocks', collection: string, what: string, actor: string): TableDef {
  return {
    name,
    description: `${what[0]!.toUpperCase()}${what.slice(1)}s (${collection} records), one row per create/update event.`,
    source: 'firehose',
    where: commitWhere(collection),
    columns: [
      ...recordIdColumns(what, `the ${actor}`, { compact: true }),
      operationColumn,
      { name: 'subject_did', type: 'VARCHAR', sql: `(record->>'$.subject')`, dictionary: true, description: `DID of the account ${what === 'follow' ? 'followed' : 'blocked'}.` },
      createdAtColumn,
      indexedAtColumn,
    ],
    dedupeKey: ['uri', 'rev'],
    sortKey: ['subject_did', 'indexed_at'],
    timeColumn: 'indexed_at',
  };
}

export const likes = subjectRefTable('likes', COLLECTIONS.like, 'like');
export const reposts = subjectRefTable('reposts', COLLECTIONS.repost, 'repost');
export const follows = subjectDidTable('follows', COLLECTIONS.follow, 'follow', 'follower');
export const blocks = subjectDidTable('blocks', COLLECTIONS.block, 'block', 'blocker');
