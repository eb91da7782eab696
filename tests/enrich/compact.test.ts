/**
 * enrich files through compaction: imports written in an hour folder (by a moved clock) are merged by the
 * real compaction like any batch file (dedupe on uri + model, latest scored_at), and search answers the
 * same before and after; a later import in another hour still replaces the compacted scores.
 */
import { createHash } from 'node:crypto';
import { rename } from 'node:fs/promises';
import t from 'tap';
import { DuckDBInstance } from '@duckdb/node-api';
import { compact } from '../../shared/compact/compact.js';
import { createContext } from '../../shared/context.js';
import { sqlString } from '../../shared/duckdb.js';
import { listTableFiles } from '../../shared/parquet/catalog.js';
import { postRow, uriOf, writeRows } from '../api/fixture.js';
import { makeTestEnv } from '../helpers/env.js';
import { postScores, searchUris, serveStack } from './stack.js';

const DID = 'did:plc:enrichcompacttest0000000';
const u = (k: number) => uriOf(DID, `3lcomp${k}`);
const nd = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

t.test('enrich files are compacted like batch files; replacement holds across hours', async (t) => {
  const env = await makeTestEnv(t);
  const dir = env.cfg.storage.parquetDir;
  await writeRows(dir, 'posts', [1, 2, 3].map((k) => postRow({ did: DID, rkey: `3lcomp${k}`, text: `post ${k}`, at: `2026-07-01T10:0${k}:00Z` })));
  let clock = Date.parse('2026-07-01T11:05:00Z');
  const { base } = await serveStack(t, env, ['search', 'enrich'], { now: () => clock });

  t.equal((await postScores(base, nd([{ uri: u(1), toxicity_score: 0.9, model: 'm' }, { uri: u(2), toxicity_score: 0.9, model: 'm' }, { uri: u(3), political_score: 0.7, model: 'p' }]))).json.accepted, 3);
  clock = Date.parse('2026-07-01T11:20:00Z');
  t.equal((await postScores(base, nd([{ uri: u(1), toxicity_score: 0.2, model: 'm' }, { uri: u(2), toxicity_score: 0.95, model: 'other' }]))).json.accepted, 2);

  const expectScores = async (what: string, want: [string, number | null, number | null][]) => {
    const s = await searchUris(base, { sort: 'oldest' });
    t.same(
      s.json.data.map((p: any) => [p.uri, p.features?.toxicity_score ?? null, p.features?.political_score ?? null]),
      want,
      what,
    );
  };
  await expectScores('before compaction', [
    [u(1), 0.2, null],
    [u(2), 0.95, null],
    [u(3), null, 0.7],
  ]);
  t.same((await searchUris(base, { feature_filters: 'toxicity_score>=0.8' })).uris, [u(2)]);

  const ctx = await createContext(env.cfg, 'compact', { redis: env.redis });
  t.teardown(() => ctx.destroy());
  const summary = await compact(ctx, { clock: () => Date.parse('2026-07-01T13:00:00Z'), graceMinutes: 15, swapGraceMs: 20 });
  t.same(summary.tables.post_features && [summary.tables.post_features.rows_in, summary.tables.post_features.rows_out], [5, 4], 'u(1)/m deduplicated');
  const files = await listTableFiles(dir, 'post_features');
  t.equal(files.length, 1);
  t.match(files[0], /hour=11\/(\.compact\/post_features\.\d+\.pq|post_features\.parquet)$/);
  await expectScores('after compaction', [
    [u(1), 0.2, null],
    [u(2), 0.95, null],
    [u(3), null, 0.7],
  ]);

  // Two hours later, model m re-scores u(2) with a lower value: the latest non-null toxicity across models wins.
  clock = Date.parse('2026-07-01T13:10:00Z');
  t.equal((await postScores(base, nd([{ uri: u(2), toxicity_score: 0.1, model: 'm' }]))).json.accepted, 1);
  await expectScores('after a later import', [
    [u(1), 0.2, null],
    [u(2), 0.1, null],
    [u(3), null, 0.7],
  ]);
  t.same((await searchUris(base, { feature_filters: 'toxicity_score>=0.8' })).uris, []);
});

t.test('compaction gives uri_key to score files written before the column existed', async (t) => {
  const env = await makeTestEnv(t);
  const dir = env.cfg.storage.parquetDir;
  const [legacy] = await writeRows(dir, 'post_features', [{ uri: u(1), toxicity_score: 0.3, model: 'm', scored_at: '2026-07-01T11:10:00Z' }]);
  await writeRows(dir, 'post_features', [{ uri: u(2), toxicity_score: 0.4, model: 'm', scored_at: '2026-07-01T11:20:00Z' }]);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.teardown(() => {
    conn.closeSync();
    db.closeSync();
  });
  await conn.run(`COPY (SELECT * EXCLUDE (uri_key) FROM read_parquet(${sqlString(legacy!)})) TO ${sqlString(legacy + '.new')} (FORMAT parquet)`);
  await rename(legacy + '.new', legacy!);
  const ctx = await createContext(env.cfg, 'compact', { redis: env.redis });
  t.teardown(() => ctx.destroy());
  await compact(ctx, { clock: () => Date.parse('2026-07-01T13:00:00Z'), graceMinutes: 15, swapGraceMs: 20 });
  const files = await listTableFiles(dir, 'post_features');
  t.equal(files.length, 1, 'one compacted file');
  const rows = (await conn.runAndReadAll(`SELECT uri, uri_key FROM read_parquet(${sqlString(files[0]!)}) ORDER BY uri`)).getRows();
  const md5Key = (s: string) => BigInt('0x' + createHash('md5').update(s).digest('hex').slice(0, 16));
  t.same(rows, [u(1), u(2)].sort().map((x) => [x, md5Key(x)]), 'both rows keyed, the legacy one included');
});
