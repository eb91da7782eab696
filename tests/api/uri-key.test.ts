/**
 * A page's scores, and a search step's deletes, are read only from the files whose uri_key column holds
 * one of the uris (filesHolding). Checked against the real functions: rows found in keyed files, in a file
 * written before uri_key existed, through a key that collides with another uri (never applied to the
 * wrong post), and when no file has the column at all.
 */
import { createHash } from 'node:crypto';
import { rename } from 'node:fs/promises';
import t from 'tap';
import { DuckDBInstance } from '@duckdb/node-api';
import { filesWithUrisSql } from '../../shared/api/sql.js';
import { sqlString } from '../../shared/duckdb.js';
import { makeTestEnv } from '../helpers/env.js';
import { deleteRow, get, postRow, serve, uriOf, writeRows } from './fixture.js';

const ann = 'did:plc:ann';

/** The documented key: the first 8 bytes of md5(uri), big-endian, unsigned. */
const keyOf = (uri: string) => BigInt('0x' + createHash('md5').update(uri).digest('hex').slice(0, 16));

/** Rewrites a Parquet file in place through `select` (`f` = the file's rows). */
async function rewrite(file: string, select: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(`COPY (${select.replaceAll('{f}', `read_parquet(${sqlString(file)})`)}) TO ${sqlString(file + '.new')} (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  await rename(file + '.new', file);
}

async function readKeys(file: string): Promise<[string, bigint | null][]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const rows = (await conn.runAndReadAll(`SELECT uri, uri_key FROM read_parquet(${sqlString(file)}) ORDER BY uri`)).getRows();
    return rows.map((r) => [String(r[0]), r[1] as bigint | null]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Ten posts in one hour, and one score file per hour for twelve hours after it (more than the lookup's minimum of 8). */
async function setup(t: Parameters<typeof makeTestEnv>[0]) {
  const env = await makeTestEnv(t, {});
  const dir = env.cfg.storage.parquetDir;
  const rkeys = Array.from({ length: 10 }, (_, i) => `p${i}`);
  await writeRows(dir, 'posts', rkeys.map((r, i) => postRow({ did: ann, rkey: r, text: `post ${r}`, at: `2025-03-01T10:${String(10 + i).padStart(2, '0')}:00Z` })));
  const scoreFiles: string[] = [];
  for (let h = 0; h < 12; h++) {
    const hour = `2025-03-01T${String(11 + h).padStart(2, '0')}:30:00Z`;
    // Hour h scores post p<h> (p10, p11: posts that do not exist); the score encodes the hour.
    const [file] = await writeRows(dir, 'post_features', [{ uri: uriOf(ann, `p${h}`), toxicity_score: h / 100, model: 'm', scored_at: hour }]);
    scoreFiles.push(file!);
  }
  return { env, dir, rkeys, scoreFiles };
}

t.test('score files carry uri_key = the first 8 bytes of md5(uri)', async (t) => {
  const { scoreFiles } = await setup(t);
  const keys = await readKeys(scoreFiles[3]!);
  t.same(keys, [[uriOf(ann, 'p3'), keyOf(uriOf(ann, 'p3'))]]);
  t.equal(keyOf('abc'), 0x900150983cd24fb0n, 'md5("abc") = 900150983cd24fb0…');
});

t.test("a page's scores: keyed files, a file from before uri_key, a colliding key", async (t) => {
  const { env, scoreFiles } = await setup(t);
  // Hour 5's file predates uri_key; hour 7's file holds a row whose key collides with p2's.
  await rewrite(scoreFiles[5]!, 'SELECT * EXCLUDE (uri_key) FROM {f}');
  await rewrite(scoreFiles[7]!, `SELECT * REPLACE (${keyOf(uriOf(ann, 'p2'))}::UBIGINT AS uri_key) FROM {f}`);
  const search = await serve(t, env, 'search');
  const data = (await get(search.url, { username: ann, limit: '20', sort: 'oldest' })).json().data as { uri: string; features: { toxicity_score: number | null } | null }[];
  const got = Object.fromEntries(data.map((d) => [d.uri.split('/').pop(), d.features?.toxicity_score ?? null]));
  t.same(got, { p0: 0, p1: 0.01, p2: 0.02, p3: 0.03, p4: 0.04, p5: 0.05, p6: 0.06, p7: 0.07, p8: 0.08, p9: 0.09 }, 'every post has exactly the score of its own hour');
});

t.test('no score file has uri_key (all written before it): scores still found', async (t) => {
  const { env, scoreFiles } = await setup(t);
  for (const f of scoreFiles) await rewrite(f, 'SELECT * EXCLUDE (uri_key) FROM {f}');
  const search = await serve(t, env, 'search');
  const data = (await get(search.url, { username: ann, limit: '20' })).json().data as { uri: string; features: { toxicity_score: number | null } | null }[];
  t.same(data.map((d) => d.features?.toxicity_score ?? null), [0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01, 0], 'newest first, each its own score');
});

t.test('filesWithUrisSql selects exactly the files holding a key of the uris, and every file without keys', async (t) => {
  const { scoreFiles } = await setup(t);
  await rewrite(scoreFiles[5]!, 'SELECT * EXCLUDE (uri_key) FROM {f}');
  await rewrite(scoreFiles[7]!, `SELECT * REPLACE (${keyOf(uriOf(ann, 'p4'))}::UBIGINT AS uri_key) FROM {f}`);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.teardown(() => {
    conn.closeSync();
    db.closeSync();
  });
  const q = filesWithUrisSql(scoreFiles, [uriOf(ann, 'p3'), uriOf(ann, 'p4'), uriOf(ann, 'nowhere')]);
  const got = (await conn.runAndReadAll(q.sql, q.values)).getRows().map((r) => scoreFiles.indexOf(String(r[0]))).sort((a, b) => a - b);
  t.same(got, [3, 4, 5, 7], 'p3 and p4 by key, 5 without keys, 7 by a colliding key');
});

/** Ten posts at 10:xx, and one deletes file per hour for twelve hours after them: hours 1, 4 and 7 delete p1, p4, p7, the others unrelated posts. */
async function setupDeletes(t: Parameters<typeof makeTestEnv>[0]) {
  const env = await makeTestEnv(t, {});
  const dir = env.cfg.storage.parquetDir;
  await writeRows(dir, 'posts', Array.from({ length: 10 }, (_, i) => postRow({ did: ann, rkey: `p${i}`, text: `post p${i}`, at: `2025-03-01T10:${String(10 + i).padStart(2, '0')}:00Z` })));
  const files: string[] = [];
  for (let h = 0; h < 12; h++) {
    const rkey = [1, 4, 7].includes(h) ? `p${h}` : `elsewhere${h}`;
    const [file] = await writeRows(dir, 'deletes', [deleteRow(ann, rkey, `2025-03-01T${String(11 + h).padStart(2, '0')}:30:00Z`)]);
    files.push(file!);
  }
  return { env, files };
}

const LIVE = ['p0', 'p2', 'p3', 'p5', 'p6', 'p8', 'p9'];

t.test("a search step's deletes: keyed files, a file from before uri_key, a colliding key; every page", async (t) => {
  const { env, files } = await setupDeletes(t);
  // Hour 4's file (deleting p4) predates uri_key; hour 9's deletes another post under p2's key.
  await rewrite(files[4]!, 'SELECT * EXCLUDE (uri_key) FROM {f}');
  await rewrite(files[9]!, `SELECT * REPLACE (${keyOf(uriOf(ann, 'p2'))}::UBIGINT AS uri_key) FROM {f}`);
  const search = await serve(t, env, 'search');
  for (const sort of ['newest', 'oldest']) {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = (await get(search.url, { username: ann, sort, limit: '3', ...(cursor ? { cursor } : {}) })).json();
      seen.push(...res.data.map((d: { uri: string }) => d.uri.split('/').pop()));
      cursor = res.meta.next_cursor ?? undefined;
      if (!cursor) break;
    }
    t.same(seen, sort === 'oldest' ? LIVE : [...LIVE].reverse(), `${sort}: p1, p4 (keyless file), p7 hidden; p2 (colliding key) shown; pages of 3`);
  }
});

t.test('no deletes file has uri_key: deleted posts still hidden', async (t) => {
  const { env, files } = await setupDeletes(t);
  for (const f of files) await rewrite(f, 'SELECT * EXCLUDE (uri_key) FROM {f}');
  const search = await serve(t, env, 'search');
  const data = (await get(search.url, { username: ann, limit: '20', sort: 'oldest' })).json().data as { uri: string }[];
  t.same(data.map((d) => d.uri.split('/').pop()), LIVE);
});
