/**
 * The token index of compacted posts: compaction writes it beside each posts generation, housekeeping
 * keeps and removes it with its generation, and a search that uses it answers exactly what a full scan
 * answers (checked against SEARCH_TEXT_INDEX=false on the same files, for tricky case folding and random
 * queries), while reading only the row ranges that can match.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { apiMetrics } from '../../shared/api/metrics.js';
import { createQueryApi, type QueryApi } from '../../shared/api/service.js';
import { textRanges } from '../../shared/api/text-ranges.js';
import { compact } from '../../shared/compact/compact.js';
import { loadConfig } from '../../shared/config/index.js';
import { createContext } from '../../shared/context.js';
import { sqlIdent, sqlString } from '../../shared/duckdb.js';
import { createLogger } from '../../shared/log.js';
import { listTableFiles } from '../../shared/parquet/catalog.js';
import { batchFileName, hourOfMs, partitionDir } from '../../shared/parquet/layout.js';
import { indexPiece, textIndexFile } from '../../shared/parquet/text-index.js';
import { TABLES } from '../../shared/tables/index.js';
import { makeTestEnv } from '../helpers/env.js';
import { compactContext, hourStart, nextBatch, post, rows, writeBatch } from '../compact/fixtures.js';

/** Words whose case folding differs between RE2 and lower(): long s, Kelvin sign, final sigma, dotted I, ß, a ligature. */
const WORDS = [
  'hello', 'World', 'ſun', 'Sun', '\u212Aelvin', 'kelvin', 'naïve', 'ÑANDÚ', 'x_y', 'abc123', '日本語', 'İstanbul', 'straße',
  'ΣΊΣΥΦΟΣ', 'σίσυφος', 'hello-world', 'the', 'quick', 'brown', 'fox', "it's", 'co-op', 'ﬁle', 'file', '½', 'Ünïcödé',
];
const PER_HOUR = 5000;
/** Rows that carry the rare word, by hour index and row. */
const PLANTED: Record<number, number[]> = { 0: [17, 4100], 1: [2500] };

t.test('token index: written with its generation, exact answers, only matching ranges read', async (t) => {
  const env = await makeTestEnv(t, { PARQUET_POINT_ROW_GROUP_SIZE: '2048', QUERY_INDEX_SLACK_MINUTES: '1440' });
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const hours = [hourStart(30), hourStart(29)];
  for (const [h, hourMs] of hours.entries()) {
    const pdir = partitionDir(dir, hourOfMs(hourMs));
    await mkdir(pdir, { recursive: true });
    const file = path.join(pdir, batchFileName('posts', nextBatch()));
    const n = `(${h} * ${PER_HOUR} + i)`;
    const words = `${sqlString(JSON.stringify(WORDS))}::JSON::VARCHAR[]`;
    // Each slot holds one of WORDS with probability 26/1000 (so each tricky word is in ~30 posts, in some
    // row ranges and not others), else a filler word f0…f4999.
    const hsh = (salt: number) => `hash(${n} * 7919 + ${salt})`;
    const pick = (salt: number) =>
      `CASE WHEN ${hsh(salt)} % 1000 < ${WORDS.length} THEN list_element(${words}, (${hsh(salt)} % 1000)::INTEGER + 1) ELSE 'f' || (${hsh(salt + 100)} % 5000) END`;
    const planted = (PLANTED[h] ?? []).join(', ');
    const exprs: Record<string, string> = {
      uri: `'at://did:plc:a' || (${n} % 5) || '/app.bsky.feed.post/r' || lpad(${n}::VARCHAR, 8, '0')`,
      cid: `'bafy' || ${n}`,
      author_did: `'did:plc:a' || (${n} % 5)`,
      rkey: `'r' || lpad(${n}::VARCHAR, 8, '0')`,
      rev: `'rev' || ${n}`,
      operation: `'create'`,
      text: `CASE WHEN i IN (${planted}) THEN 'a QXenolith here' ELSE concat_ws(' ', ${pick(1)}, ${pick(2)} || ',', ${pick(3)}) END`,
      created_at: 'ts',
      indexed_at: 'ts',
      sort_at: 'ts',
      langs: `['en']`,
    };
    const cols = TABLES.posts.columns.map((c) => `CAST(${exprs[c.name] ?? 'NULL'} AS ${c.type}) AS ${sqlIdent(c.name)}`).join(', ');
    await ctx.conn.run(
      `COPY (SELECT ${cols} FROM (SELECT i, to_timestamp(${hourMs / 1000} + i * 0.5) AS ts FROM range(${PER_HOUR}) r(i)))
       TO ${sqlString(file + '.tmp')} (FORMAT parquet)`,
    );
    await rename(file + '.tmp', file);
  }
  await compact(ctx, { swapGraceMs: 20, graceMinutes: 15 });
  const files = await listTableFiles(dir, 'posts');
  t.equal(files.length, 2, 'one compacted generation per hour');
  for (const f of files) t.ok(existsSync(textIndexFile(f)), `${path.basename(f)} has its token index`);

  t.test('the index lists distinct lower-cased tokens per row range; ſ is indexed as s', async (t) => {
    const idx = await rows(ctx.conn, `SELECT token, lo, hi FROM read_parquet(${sqlString(textIndexFile(files[0]!))}) WHERE token IN ('qxenolith', 'sun', 'ſun', 'kelvin', 'σίσυφος')`);
    const ranges = (tok: string) => idx.filter((r) => r.token === tok).map((r) => [Number(r.lo), Number(r.hi)]);
    t.same(ranges('qxenolith').length, 2, 'two ranges hold the planted word (rows 17 and 4100 are in different row groups)');
    t.same(ranges('ſun'), [], 'the long s is folded to s in the index');
    t.ok(ranges('sun').length > 0, 'sun (from Sun and ſun) is indexed');
    t.ok(ranges('kelvin').length > 0, 'the Kelvin sign lower-cases to k');
    t.ok(ranges('σίσυφος').length > 0);
  });

  const mkApi = (on: boolean): QueryApi => {
    const cfg = loadConfig({ ...env.env, PARQUET_POINT_ROW_GROUP_SIZE: '2048', QUERY_INDEX_SLACK_MINUTES: '1440', SEARCH_TEXT_INDEX: String(on) });
    return createQueryApi({ cfg, duckdb: ctx.duckdb, redis: env.redis, keys: ctx.keys, log: createLogger('test', { level: 'silent' }), metrics: apiMetrics(), functionName: 'test' });
  };
  const withIndex = mkApi(true);
  const fullScan = mkApi(false);
  const uris = async (api: QueryApi, q: Record<string, string>) =>
    (JSON.parse((await api.search({ limit: '500', ...q })).body as string) as { data: { uri: string }[] }).data.map((p) => p.uri);

  t.test('a rare word reads only its ranges and finds exactly the planted posts', async (t) => {
    const conn = await ctx.duckdb.connect();
    t.teardown(() => conn.closeSync());
    const r = await textRanges(conn, files, 'QXENOLITH');
    t.same([...r!.values()].map((l) => l.length).sort(), [1, 2], 'three ranges of the six are read');
    const got = await uris(withIndex, { text: 'qxenolith' });
    t.equal(got.length, 3);
    t.same(got, await uris(fullScan, { text: 'qxenolith' }));
    t.same(await textRanges(conn, files, '日本'), undefined, 'no ASCII run of 3: scan everything');
    t.equal(indexPiece('ÑANDÚ über-cool'), 'cool', 'the longest ASCII run');
  });

  t.test('tricky case folding: the index never loses a match of the full scan', async (t) => {
    const queries = ['sun', 'SUN', 'ſun', 'kelvin', 'KELVIN', '\u212Aelvin', 'ñandú', 'and', 'x_y', 'abc', 'stanbul', 'İstanbul', 'straße', 'strasse',
      'σίσυφος', 'ΣΊΣΥΦΟΣ', 'hello wor', 'lo-wo', "it's", 'file', 'ﬁle', 'o-o', 'ünï', 'the quick', 'fox, the'];
    for (const text of queries) {
      const full = await uris(fullScan, { text });
      t.same(await uris(withIndex, { text }), full, `text=${text} (${full.length} hits)`);
      const exactFull = await uris(fullScan, { text, exact: 'true' });
      t.same(await uris(withIndex, { text, exact: 'true' }), exactFull, `exact text=${text} (${exactFull.length} hits)`);
    }
  });

  t.test('random queries: same answers with and without the index', async (t) => {
    const query = fc
      .tuple(fc.constantFrom(...WORDS, ...WORDS.map((w) => w.toUpperCase())), fc.nat({ max: 6 }), fc.integer({ min: 3, max: 9 }))
      .map(([w, from, len]) => w.slice(Math.min(from, Math.max(0, w.length - 3)), Math.min(from, Math.max(0, w.length - 3)) + len));
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(query, async (text) => {
        const a = await uris(withIndex, { text });
        const b = await uris(fullScan, { text });
        compared++;
        return JSON.stringify(a) === JSON.stringify(b);
      }),
      { numRuns: 60, seed: 11 },
    );
    t.equal(compared, 60);
  });

  t.test('a retired generation goes with its index; an orphan index is removed, the current one kept', async (t) => {
    const genDir = path.dirname(files[0]!);
    t.same(readdirSync(genDir).sort(), ['posts.1.pq', 'posts.1.tokens.pq']);
    // A late batch re-compacts the hour (generation 2); a crashed run's leftover index is an orphan.
    await writeBatch(ctx.conn, dir, 'posts', hours[0]!, [post(99_999, hours[0]! + 60_000, { text: 'late qxenolith' })]);
    writeFileSync(path.join(genDir, 'posts.7.tokens.pq'), 'left by a crashed run');
    await compact(ctx, { swapGraceMs: 20, graceMinutes: 15 });
    await new Promise((r) => setTimeout(r, 40));
    await compact(ctx, { swapGraceMs: 20, graceMinutes: 15 });
    t.same(readdirSync(genDir).sort(), ['posts.2.pq', 'posts.2.tokens.pq'], 'generation 1 and its index retired together; the orphan gone');
    t.equal((await uris(withIndex, { text: 'qxenolith' })).length, 4, 'the new generation is searched through its own index');
  });
});
