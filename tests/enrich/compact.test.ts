/**
 * enrich files through compaction: imports written in an hour folder (by a moved clock) are merged by the
 * real compaction like any batch file (dedupe on uri + model, latest scored_at), and search answers the
 * same before and after; a later import in another hour still replaces the compacted scores.
 */
import t from 'tap';
import { compact } from '../../shared/compact/compact.js';
import { createContext } from '../../shared/context.js';
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
