/**
 * The token-index lookup over many files (a month's step): the ranges it returns for a rare word are
 * exactly those of its index rows, and a word in more ranges than the step's budget is left to a plain
 * scan, whether the sample of indexes read first says so or the full lookup does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import t from 'tap';
import { sqlString } from '../../shared/duckdb.js';
import { textRanges } from '../../shared/api/text-ranges.js';
import { textIndexFile } from '../../shared/parquet/text-index.js';

const FILES = 120;

t.test('token index lookups over 120 files: exact ranges, or a plain scan beyond the budget', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bsky-ranges-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  t.teardown(() => conn.closeSync());
  // Only the indexes are read by the lookup: each "generation" gets an index of 8 ranges of 100 rows.
  // `common` is in every range of every file (960 ranges > the budget of 240); `rare` in 3 files;
  // `spread` in 2 ranges of every file (240: exactly the budget); `over` in 2 ranges of every file but
  // one more range in file 119 (241, which only the full lookup can tell).
  const generations: string[] = [];
  for (let f = 0; f < FILES; f++) {
    const gen = path.join(dir, `posts.${f}.pq`);
    generations.push(gen);
    const rare = f === 7 || f === 60 || f === 118 ? `UNION ALL SELECT 'xrareword', ${f % 8} * 100, ${f % 8} * 100 + 99` : '';
    const over = f === FILES - 1 ? `UNION ALL SELECT 'overflow', 500, 599` : '';
    await conn.run(
      `COPY (SELECT 'commonword' AS token, r * 100 AS lo, r * 100 + 99 AS hi FROM range(8) t(r)
        UNION ALL SELECT 'commonwords', r * 100, r * 100 + 99 FROM range(8) t(r)
        UNION ALL SELECT 'spread', r * 100, r * 100 + 99 FROM range(2) t(r)
        UNION ALL SELECT 'overflow', r * 100, r * 100 + 99 FROM range(2) t(r) ${rare} ${over})
       TO ${sqlString(textIndexFile(gen))} (FORMAT parquet)`,
    );
  }
  const toList = (r: Awaited<ReturnType<typeof textRanges>>) =>
    r && [...r].filter(([, l]) => l.length > 0).map(([f, l]) => [path.basename(f), l.map(([a, b]) => [Number(a), Number(b)])]);

  t.same(
    toList(await textRanges(conn, generations, 'xRareWord')),
    [
      ['posts.7.pq', [[700, 799]]],
      ['posts.60.pq', [[400, 499]]],
      ['posts.118.pq', [[600, 699]]],
    ],
    'a rare word: exactly its three ranges',
  );
  t.equal(await textRanges(conn, generations, 'commonword'), undefined, 'a word in every range: plain scan (the sample says so)');
  const spread = await textRanges(conn, generations, 'spread');
  t.equal([...(spread ?? new Map()).values()].reduce((n, l) => n + l.length, 0), 240, 'exactly the budget: every range returned');
  t.equal(await textRanges(conn, generations, 'overflow'), undefined, 'one range over the budget: plain scan (the full lookup says so)');
  t.equal(await textRanges(conn, generations, 'ab'), undefined, 'no 3-character ASCII run: plain scan');
});
