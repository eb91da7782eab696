/**
 * enrich over real HTTP (template factory, gateway-like mounts) with search beside it on the same Parquet
 * tree: exact accepted/rejected counts and reasons, CSV quoting, atomic files where the catalog lists them,
 * re-sent scores replacing old ones as search's feature_filters and `features` see them.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { listTableFiles } from '../../shared/parquet/catalog.js';
import { postRow, uriOf, writeRows } from '../api/fixture.js';
import { makeTestEnv } from '../helpers/env.js';
import { postScores, searchUris, serveStack } from './stack.js';

const DID = 'did:plc:enrichtestauthor0000000';
const u = (k: number) => uriOf(DID, `3lpost${k}`);
const sorted = (a: string[]) => [...a].sort();

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

t.test('enrich', async (t) => {
  const env = await makeTestEnv(t);
  const parquetDir = env.cfg.storage.parquetDir;
  await writeRows(
    parquetDir,
    'posts',
    [1, 2, 3, 4, 5, 6].map((k) => postRow({ did: DID, rkey: `3lpost${k}`, text: `post number ${k}`, at: `2026-07-01T10:0${k}:00Z` })),
  );
  const stack = await serveStack(t, env, ['search', 'enrich']);
  const base = stack.base;

  t.test('NDJSON: every kind of bad row is rejected with its line and reason', async (t) => {
    const lines = [
      JSON.stringify({ uri: u(1), toxicity_score: 0.9, model: 'inhouse-v1' }), // 1 ok
      JSON.stringify({ uri: u(2), toxicity_score: 0.5, hate_score: 0.1 }), // 2 unknown feature
      JSON.stringify({ uri: u(2), toxicity_score: 1.5 }), // 3 > 1
      JSON.stringify({ uri: u(2), political_score: -0.1 }), // 4 < 0
      JSON.stringify({ uri: u(2), toxicity_score: 'abc' }), // 5 not a number
      `{"uri":"${u(2)}","toxicity_score":NaN}`, // 6 NaN is not JSON
      JSON.stringify({ uri: `at://${DID}/app.bsky.feed.like/3lx`, toxicity_score: 0.2 }), // 7 not a post uri
      JSON.stringify({ toxicity_score: 0.3 }), // 8 missing uri
      `{"uri": "${u(2)}", "toxicity_score": 0.`, // 9 malformed JSON
      '', // 10 blank: skipped
      JSON.stringify({ uri: u(2), political_score: 0.1, toxicity_score: null, scored_at: '2026-07-01T12:00:00Z' }), // 11 ok
      JSON.stringify({ uri: u(4) }), // 12 no scores
      JSON.stringify([u(4), 0.5]), // 13 not an object
    ];
    const res = await postScores(base, lines.join('\n') + '\n');
    t.equal(res.status, 200);
    t.equal(res.json.accepted, 2);
    t.equal(res.json.rejected, 10);
    t.match(res.json.file, /^year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/post_features-\d{13}-\d+_\d{13}-\d+\.parquet$/);
    const errs = res.json.errors as { line: number; uri?: string; reason: string }[];
    t.same(
      errs.map((e) => [e.line, e.uri ?? null]),
      [
        [2, u(2)],
        [3, u(2)],
        [4, u(2)],
        [5, u(2)],
        [6, null],
        [7, `at://${DID}/app.bsky.feed.like/3lx`],
        [8, null],
        [9, null],
        [12, u(4)],
        [13, null],
      ],
    );
    const reasons = errs.map((e) => e.reason);
    t.match(reasons[0], /^unknown feature "hate_score"; known: political_score, toxicity_score/);
    t.equal(reasons[1], 'toxicity_score: 1.5 is outside [0, 1]');
    t.equal(reasons[2], 'political_score: -0.1 is outside [0, 1]');
    t.equal(reasons[3], 'toxicity_score: "abc" is not a number');
    t.equal(reasons[4], 'malformed JSON');
    t.match(reasons[5], /^uri is not a post URI/);
    t.equal(reasons[6], 'missing uri');
    t.equal(reasons[7], 'malformed JSON');
    t.equal(reasons[8], 'no scores: the row has no feature value');
    t.equal(reasons[9], 'not a JSON object');

    // The file is where the catalog looks, and no temporary file is left behind.
    const listed = await listTableFiles(parquetDir, 'post_features');
    t.same(listed, [path.join(parquetDir, res.json.file)]);
    t.same((await walk(parquetDir)).filter((f) => /\.tmp$/.test(f)), []);

    const s = await searchUris(base, { feature_filters: 'toxicity_score>=0.8' });
    t.same(s.uris, [u(1)]);
    t.same(s.json.data[0].features, {
      political_score: null,
      toxicity_score: 0.9,
      perspective_toxicity: null,
      perspective_severe_toxicity: null,
      perspective_identity_attack: null,
      perspective_insult: null,
      perspective_profanity: null,
      perspective_threat: null,
    });
    const p = await searchUris(base, { feature_filters: 'political_score<0.5' });
    t.same(p.uris, [u(2)]);
  });

  t.test('CSV with quotes, empty cells, CRLF and a wrong field count', async (t) => {
    const csv =
      'uri,perspective_insult,toxicity_score,model\r\n' +
      `"${u(3)}",0.85,,"model ""quoted"", v2"\r\n` + // line 2 ok, toxicity empty = not provided
      `${u(5)},0.1,0.95,"multi\nline model"\r\n` + // line 3 ok (a line break inside quotes)
      `${u(6)},abc,0.2,m\r\n` + // line 5: not a number
      `${u(6)},0.2\r\n` + // line 6: field count
      `${u(6)},1e-1,2,m\r\n`; // line 7: out of range
    const res = await postScores(base, csv, 'text/csv; charset=utf-8');
    t.equal(res.status, 200);
    t.equal(res.json.accepted, 2);
    t.equal(res.json.rejected, 3);
    t.same(res.json.errors, [
      { line: 5, uri: u(6), reason: 'perspective_insult: "abc" is not a number' },
      { line: 6, uri: u(6), reason: 'expected 4 fields, got 2' },
      { line: 7, uri: u(6), reason: 'toxicity_score: 2 is outside [0, 1]' },
    ]);
    const s = await searchUris(base, { feature_filters: 'perspective_insult>0.5' });
    t.same(s.uris, [u(3)]);
    t.equal(s.json.data[0].features.toxicity_score, null);
    t.same(sorted((await searchUris(base, { feature_filters: 'toxicity_score>=0.8' })).uris), sorted([u(1), u(5)]));
  });

  t.test('CSV whose header names an unknown column is refused as a whole', async (t) => {
    const res = await postScores(base, `uri,toxicity_score,hate_score\r\n${u(4)},0.9,0.9\r\n`, 'text/csv');
    t.equal(res.status, 400);
    t.equal(res.json.error.code, 'unknown_column');
    t.equal(res.json.error.param, 'body');
    t.match(res.json.error.message, /unknown column "hate_score"/);
    const noUri = await postScores(base, `toxicity_score\r\n0.9\r\n`, 'text/csv');
    t.same([noUri.status, noUri.json.error.code], [400, 'missing_column']);
    const open = await postScores(base, `uri,toxicity_score\r\n"${u(4)},0.9\r\n`, 'text/csv');
    t.same([open.status, open.json.error.code], [400, 'invalid_csv']);
    // Nothing was written for u(4).
    t.same((await searchUris(base, { feature_filters: 'toxicity_score>=0.8' })).uris.includes(u(4)), false);
  });

  t.test('re-sent scores replace the old ones', async (t) => {
    // u(1) had toxicity 0.9 from inhouse-v1: the same model sends 0.1, which replaces it.
    const a = await postScores(base, JSON.stringify({ uri: u(1), toxicity_score: 0.1, model: 'inhouse-v1' }) + '\n');
    t.equal(a.json.accepted, 1);
    // u(5) had 0.95 (CSV, model "multi\nline model"); an explicit scored_at tie between two imports: the later wins.
    const at = '2026-07-01T09:00:00Z';
    await postScores(base, JSON.stringify({ uri: u(6), toxicity_score: 0.99, model: 'x', scored_at: at }) + '\n');
    await postScores(base, JSON.stringify({ uri: u(6), toxicity_score: 0.3, model: 'x', scored_at: at }) + '\n');
    // Within one import, the later row for the same uri and model wins.
    const twice = [{ uri: u(4), toxicity_score: 0.2 }, { uri: u(4), toxicity_score: 0.97 }].map((r) => JSON.stringify(r)).join('\n');
    t.equal((await postScores(base, twice, 'application/x-ndjson')).json.accepted, 2);

    // u(3): perspective_insult 0.85 stays when a later row brings only political_score; an explicitly older
    // scored_at does not replace the newer score.
    await postScores(base, JSON.stringify({ uri: u(3), political_score: 0.6, model: 'model "quoted", v2' }) + '\n');
    await postScores(base, JSON.stringify({ uri: u(3), perspective_insult: 0.01, scored_at: '2020-01-01T00:00:00Z' }) + '\n');
    const p3 = await searchUris(base, { feature_filters: 'perspective_insult>0.5' });
    t.same(p3.json.data.map((p: any) => [p.uri, p.features.perspective_insult, p.features.political_score]), [[u(3), 0.85, 0.6]]);

    const hi = await searchUris(base, { feature_filters: 'toxicity_score>=0.8' });
    t.same(sorted(hi.uris), sorted([u(4), u(5)]));
    const all = await searchUris(base, { feature_filters: 'toxicity_score>=0', sort: 'oldest' });
    t.same(
      all.json.data.map((p: any) => [p.uri, p.features.toxicity_score]),
      [
        [u(1), 0.1],
        [u(4), 0.97],
        [u(5), 0.95],
        [u(6), 0.3],
      ],
    );
  });

  t.test('request errors: 400/405/415, dry_run writes nothing', async (t) => {
    const before = await listTableFiles(parquetDir, 'post_features');
    const dry = await postScores(base, JSON.stringify({ uri: u(2), toxicity_score: 0.99 }) + '\n', 'application/x-ndjson', '?dry_run=true');
    t.same([dry.status, dry.json.accepted, dry.json.rejected, dry.json.file], [200, 1, 0, null]);
    t.same(await listTableFiles(parquetDir, 'post_features'), before);

    const empty = await postScores(base, '');
    t.same([empty.status, empty.json.error.code, empty.json.error.param], [400, 'empty_body', 'body']);
    const json = await postScores(base, '{"uri":"x"}', 'application/json');
    t.same([json.status, json.json.error.code], [415, 'unsupported_media_type']);
    const param = await postScores(base, 'x', 'application/x-ndjson', '?limit=3');
    t.same([param.status, param.json.error.code, param.json.error.param], [400, 'unknown_parameter', 'limit']);
    const get = await fetch(`${base}/function/enrich`);
    t.equal(get.status, 405);
    t.equal(get.headers.get('allow'), 'POST, OPTIONS');
    t.equal(((await get.json()) as any).error.code, 'method_not_allowed');
    const pre = await fetch(`${base}/function/enrich`, { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' } });
    t.equal(pre.status, 204);
    t.equal(pre.headers.get('access-control-allow-methods'), 'POST, OPTIONS');

    const metrics = await (await fetch(`${base}/function/enrich/metrics`)).text();
    t.match(metrics, /bsky_enrich_rows_total\{result="rejected"\} 13/);
    t.match(metrics, /bsky_enrich_requests_total\{status="415",code="unsupported_media_type"\} 1/);
  });

  t.test('after enrich, search feature_filters returns exactly the expected posts', async (t) => {
    const s = await searchUris(base, { feature_filters: 'toxicity_score>=0.8' });
    t.equal(s.status, 200);
    t.same(sorted(s.uris), sorted([u(4), u(5)]));
    const both = await searchUris(base, { feature_filters: 'toxicity_score>=0.8,perspective_insult<0.5' });
    t.same(both.uris, [u(5)]);
  });
});

t.test('enrich: a body over the configured limit is a 413', async (t) => {
  const env = await makeTestEnv(t);
  const stack = await serveStack(t, env, ['enrich'], { maxBodyBytes: 1000 });
  const row = JSON.stringify({ uri: u(1), toxicity_score: 0.5 }) + '\n';
  const res = await postScores(stack.base, row.repeat(30));
  t.same([res.status, res.json.error.code], [413, 'payload_too_large']);
});
