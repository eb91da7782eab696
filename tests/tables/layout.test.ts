import tap from 'tap';
import {
  batchFileName,
  batchFilePath,
  batchName,
  compactedFileName,
  hourOfMs,
  hourOfTimeUs,
  parseParquetPath,
  partitionPath,
} from '../../shared/parquet/layout.js';

tap.test('partition path: zero-padded UTC hour of time_us', async (t) => {
  // 2026-07-04T14:38:08.090631Z
  const h = hourOfTimeUs(1783175888090631n);
  t.same(h, { year: 2026, month: 7, day: 4, hour: 14, startMs: Date.UTC(2026, 6, 4, 14) });
  t.equal(partitionPath(h), 'year=2026/month=07/day=04/hour=14');
  t.equal(partitionPath(hourOfTimeUs(1767225599999999)), 'year=2025/month=12/day=31/hour=23', 'last µs of a year');
  t.equal(partitionPath(hourOfTimeUs(1767225600000000)), 'year=2026/month=01/day=01/hour=00', 'first µs of the next');
  t.same(hourOfMs(new Date('2026-03-01T09:59:59.999Z')), hourOfMs(Date.UTC(2026, 2, 1, 9)));
});

tap.test('batch names are deterministic, sortable and parse back', async (t) => {
  const b = batchName('1783175888090-0', '1783175888400-15');
  t.equal(b, '1783175888090-0_1783175888400-15');
  t.equal(batchName('5-0', '7-1'), '0000000000005-0_0000000000007-1', 'ms zero-padded to 13 digits');
  t.throws(() => batchName('abc', '1-0'));
  t.equal(batchFileName('post_features', b), `post_features-${b}.parquet`);
  t.equal(compactedFileName('posts'), 'posts.parquet');
  const h = hourOfTimeUs(1783175888090631n);
  const p = batchFilePath('/data/parquet', h, 'likes', b);
  t.equal(p, `/data/parquet/year=2026/month=07/day=04/hour=14/likes-${b}.parquet`);
  t.same(parseParquetPath(p), { hour: h, table: 'likes', batch: b, compacted: false });
  t.same(parseParquetPath('year=2026/month=07/day=04/hour=14/posts.parquet'), { hour: h, table: 'posts', batch: undefined, compacted: true });
  t.same(parseParquetPath(`year=2026/month=07/day=04/hour=14/post_features-${b}.parquet`)?.table, 'post_features');
});

tap.test('the parser ignores what is not ours', async (t) => {
  const b = '1783175888090-0_1783175888400-15';
  for (const p of [
    `year=2026/month=07/day=04/hour=14/.posts-${b}.parquet.tmp`,
    `year=2026/month=07/day=04/hour=14/tweets-${b}.parquet`,
    `year=2026/month=7/day=04/hour=14/posts.parquet`,
    `year=2026/month=02/day=30/hour=14/posts.parquet`,
    `year=2026/month=07/day=04/hour=24/posts.parquet`,
    `year=2026/month=07/day=04/hour=14/posts-junk.parquet`,
    `posts.parquet`,
  ]) {
    t.equal(parseParquetPath(p), undefined, p);
  }
});
