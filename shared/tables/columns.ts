import { CREATED_AT_SQL, URI_SQL } from './events.js';
import type { ColumnDef } from './types.js';

/**
 * Columns every commit-derived table starts with. `compact: true` (likes, reposts, follows, blocks:
 * 80% of the firehose) leaves out the record's own CID (random, a third of a like row's bytes, of little
 * use for research) and the rkey (the end of the URI).
 */
export function recordIdColumns(what: string, authorRole = 'the account that wrote it', opts: { compact?: boolean } = {}): ColumnDef[] {
  const cols: ColumnDef[] = [
    { name: 'uri', type: 'VARCHAR', sql: URI_SQL, description: `AT URI of the ${what} (at://did/collection/rkey).` },
    { name: 'cid', type: 'VARCHAR', sql: 'cid', description: `CID of the ${what} record version.` },
    { name: 'author_did', type: 'VARCHAR', sql: 'did', dictionary: true, description: `DID of ${authorRole}.` },
    { name: 'rkey', type: 'VARCHAR', sql: 'rkey', description: 'Record key (the last part of the URI).' },
    { name: 'rev', type: 'VARCHAR', sql: 'rev', description: 'Repository revision (TID) of the commit; with uri, identifies a replayed event.' },
  ];
  return opts.compact ? cols.filter((c) => c.name !== 'cid' && c.name !== 'rkey') : cols;
}

export const createdAtColumn: ColumnDef = {
  name: 'created_at',
  type: 'TIMESTAMPTZ',
  sql: CREATED_AT_SQL,
  description: "The record's createdAt as set by the client; NULL when missing, unparseable or before 1900 / after 2199.",
};

export const indexedAtColumn: ColumnDef = {
  name: 'indexed_at',
  type: 'TIMESTAMPTZ',
  sql: 'indexed_at',
  description: "When the network saw the event (Jetstream time_us, UTC); the Parquet hour partition follows it.",
};

export const operationColumn: ColumnDef = {
  name: 'operation',
  type: 'VARCHAR',
  sql: 'operation',
  dictionary: true,
  description: 'create or update.',
};

export const recordColumn: ColumnDef = {
  name: 'record',
  type: 'JSON',
  sql: 'record',
  description: "The record's original JSON, kept for fidelity (the spec's raw_data).",
};

/** Self-labels of a record (`labels.values[].val`). */
export const labelsColumn: ColumnDef = {
  name: 'labels',
  type: 'VARCHAR[]',
  sql: `list_filter(coalesce(json_extract_string(record, '$.labels.values[*].val'), []::VARCHAR[]), lambda x: x IS NOT NULL)`,
  description: 'Self-labels the author put on the record (e.g. porn, nudity, graphic-media); empty when none.',
};
