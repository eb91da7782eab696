/**
 * Which deletes compaction still has to apply to hours it already compacted, without reading every
 * delete and every compacted row on every run.
 *
 * `_compact_state.json` at the Parquet root lists the deletes files (relative paths) whose deletes every
 * compacted generation already reflects. A run only looks at the *new* deletes files, and maps each
 * new delete to the hours its record can be in: record keys are TIDs whose first 11 characters are the
 * creation time in µs, and the network sees a record within moments of its creation, so the record sits
 * in that hour (±1 for clock skew). Deletes with other keys (`self`, custom keys) check every recent hour of
 * their table. A record whose TID lies (imported archives, back-dated keys) may be missed here; the API
 * still hides it, as it hides every deleted post that is not purged yet.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../duckdb.js';
import { COLLECTIONS, type TableName } from '../tables/index.js';
import { writeFileAtomic } from './manifest.js';

export const STATE_NAME = '_compact_state.json';
const TID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';

interface CompactState {
  version: 1;
  /** Deletes files (relative to the Parquet root) applied to every compacted generation. */
  deletesApplied: string[];
}

/** The set of deletes files already applied (relative paths); empty when there is no state yet. */
export async function readAppliedDeletes(parquetDir: string): Promise<Set<string>> {
  try {
    const s = JSON.parse(await readFile(path.join(parquetDir, STATE_NAME), 'utf8')) as CompactState;
    return new Set(s.version === 1 && Array.isArray(s.deletesApplied) ? s.deletesApplied : []);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return new Set();
    throw err;
  }
}

export async function writeAppliedDeletes(parquetDir: string, applied: Iterable<string>): Promise<void> {
  const state: CompactState = { version: 1, deletesApplied: [...applied].sort() };
  await writeFileAtomic(path.join(parquetDir, STATE_NAME), JSON.stringify(state) + '\n');
}

/** SQL: the hour index (hours since the epoch) a TID record key was created in; NULL for other keys. */
export function tidHourSql(rkey: string): string {
  const micros = `list_reduce(list_transform(string_split(substr(${rkey}, 1, 11), ''), lambda c: (instr('${TID_ALPHABET}', c) - 1)::BIGINT), lambda a, x: a * 32 + x)`;
  return `CASE WHEN regexp_full_match(${rkey}, '[2-7a-j][2-7a-z]{12}') THEN ${micros} // 3600000000 END`;
}

/** SQL: the table a collection's records go to. */
export function collectionTableSql(collection: string): string {
  const own: [string, TableName][] = [
    [COLLECTIONS.post, 'posts'],
    [COLLECTIONS.like, 'likes'],
    [COLLECTIONS.repost, 'reposts'],
    [COLLECTIONS.follow, 'follows'],
    [COLLECTIONS.block, 'blocks'],
    [COLLECTIONS.profile, 'profiles'],
  ];
  return `CASE ${collection} ${own.map(([c, t]) => `WHEN ${sqlString(c)} THEN ${sqlString(t)}`).join(' ')} ELSE 'records' END`;
}

/** Where a new delete may hit: `table:hourIndex`, or `table:*` for every recent hour of the table. */
export type DeleteTarget = string;

/**
 * Loads the deletes of `files` into `compact_new_deletes` (uri, deleted_rev = the latest delete's revision) and returns the (table, hour)
 * targets they can hit. Post deletes also target `post_features`.
 */
export async function loadNewDeletes(conn: DuckDBConnection, files: string[]): Promise<Set<DeleteTarget>> {
  if (files.length === 0) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE compact_new_deletes (uri VARCHAR, deleted_rev VARCHAR)`);
    return new Set();
  }
  // Collection and rkey come from the uri (at://did/collection/rkey): only uri and rev are relied on.
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE compact_new_deletes AS
     SELECT uri, max(rev) AS deleted_rev,
       split_part(uri, '/', 4) AS collection, split_part(uri, '/', 5) AS rkey
     FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true) GROUP BY uri`,
  );
  const r = await conn.runAndReadAll(
    `SELECT DISTINCT ${collectionTableSql('collection')} AS tbl, ${tidHourSql('rkey')} AS hour FROM compact_new_deletes`,
  );
  const targets = new Set<DeleteTarget>();
  for (const row of r.getRowObjectsJS()) {
    const tables = row.tbl === 'posts' ? ['posts', 'post_features'] : [String(row.tbl)];
    for (const t of tables) {
      if (row.hour === null || row.hour === undefined) targets.add(`${t}:*`);
      else for (const d of [-1, 0, 1]) targets.add(`${t}:${Number(row.hour) + d}`);
    }
  }
  return targets;
}

/** True when a new delete may hit `table` in the hour with index `hourIndex`. */
export function isTargeted(targets: Set<DeleteTarget>, table: string, hourIndex: number): boolean {
  return targets.has(`${table}:*`) || targets.has(`${table}:${hourIndex}`);
}
