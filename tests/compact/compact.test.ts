import t from 'tap';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compact } from '../../shared/compact/compact.js';
import { loadConfig } from '../../shared/config/index.js';
import { readManifest } from '../../shared/compact/manifest.js';
import { tidHourSql } from '../../shared/compact/deletes.js';
import { sqlString } from '../../shared/duckdb.js';
import { listTableFiles } from '../../shared/parquet/catalog.js';
import { HOUR_MS, hourOfMs, partitionDir } from '../../shared/parquet/layout.js';
import { makeTestEnv } from '../helpers/env.js';
import { compactContext, countFiles, deleteOf, hourStart, isoAt, post, rows, tid, writeBatch, writePostsRange } from './fixtures.js';

const FAST = { swapGraceMs: 20, graceMinutes: 15 };

t.test('replayed duplicates across batch files appear once; sorted ZSTD output; glob view follows', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const h = hourStart(3);
  // Written out of time order, and batch 2 replays posts 3 and 4 (same uri and rev).
  await writeBatch(ctx.conn, dir, 'posts', h, [5, 3, 1, 4, 2].map((n) => post(n, h + n * 60_000)));
  await writeBatch(ctx.conn, dir, 'posts', h, [3, 4, 6].map((n) => post(n, h + n * 60_000)));
  await writeBatch(ctx.conn, dir, 'likes', h, []);

  t.equal(await countFiles(ctx.conn, await listTableFiles(dir, 'posts')), 8, 'before: the replay is still there');
  const s = await compact(ctx, FAST);
  t.equal(s.hours_compacted, 1);
  t.equal(s.hours_published, 1);
  t.same(s.tables.posts, { rows_in: 8, rows_out: 6, duplicates_removed: 2, deleted_removed: 0 });
  t.same(s.tables.likes, { rows_in: 0, rows_out: 0, duplicates_removed: 0, deleted_removed: 0 });
  t.ok(s.bytes_before > 0 && s.bytes_after > 0);

  const files = await listTableFiles(dir, 'posts');
  t.equal(files.length, 1, 'one compacted generation');
  t.match(files[0]!, /\.compact\/posts\.1\.pq$/);
  const got = await rows(ctx.conn, `SELECT rkey FROM read_parquet(${sqlString(files[0]!)})`);
  t.same(got.map((r) => r.rkey), [1, 2, 3, 4, 5, 6].map((n) => post(n, h + n * 60_000).rkey), 'sorted by sort_at, one row each');

  const meta = await rows(
    ctx.conn,
    `SELECT DISTINCT row_group_id, row_group_num_rows, compression FROM parquet_metadata(${sqlString(files[0]!)}) ORDER BY row_group_id`,
  );
  t.ok(meta.every((m) => m.compression === 'ZSTD'), 'ZSTD');

  // The plain glob of the README sees exactly the compacted file now.
  const hourDir = partitionDir(dir, hourOfMs(h));
  t.same(readdirSync(hourDir).filter((n) => n.endsWith('.parquet')).sort(), ['likes.parquet', 'posts.parquet']);
  const viaGlob = await rows(
    ctx.conn,
    `SELECT count(*)::BIGINT AS n, min(hour)::BIGINT AS hour FROM read_parquet(${sqlString(path.join(dir, '**/posts*.parquet'))}, hive_partitioning = true)`,
  );
  t.same(viaGlob, [{ n: 6n, hour: BigInt(hourOfMs(h).hour) }]);

  t.test('a re-run changes nothing (idempotent)', async (t) => {
    const again = await compact(ctx, FAST);
    t.equal(again.hours_compacted, 0);
    t.equal(again.hours_published, 0);
    t.equal((await readManifest(hourDir))!.tables.posts!.gen, 1);
    t.same(await listTableFiles(dir, 'posts'), files);
  });

  t.test('a late batch after compaction is read beside the compacted file, then merged', async (t) => {
    await writeBatch(ctx.conn, dir, 'posts', h, [post(7, h + 7 * 60_000), post(2, h + 2 * 60_000)]);
    const mixed = await listTableFiles(dir, 'posts');
    t.equal(mixed.length, 2);
    t.equal(await countFiles(ctx.conn, mixed), 8);
    const s2 = await compact(ctx, FAST);
    t.equal(s2.hours_compacted, 1);
    t.same(s2.tables.posts, { rows_in: 8, rows_out: 7, duplicates_removed: 1, deleted_removed: 0 });
    t.equal(s2.tables.likes, undefined, 'tables without new files are left alone');
    const now = await listTableFiles(dir, 'posts');
    t.equal(now.length, 1);
    t.match(now[0]!, /posts\.2\.pq$/);
    t.equal(await countFiles(ctx.conn, now), 7);
    t.notOk(existsSync(files[0]!), 'the superseded generation is removed after the grace period');
    t.same(readdirSync(hourDir).filter((n) => n.startsWith('posts')), ['posts.parquet']);
  });
});

t.test('deleted posts are removed: same hour, and a delete arriving in a later hour', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const h1 = hourStart(5);
  const h2 = hourStart(2);
  const p = [1, 2, 3, 4].map((n) => post(n, h1 + n * 60_000));
  await writeBatch(ctx.conn, dir, 'posts', h1, p);
  await writeBatch(ctx.conn, dir, 'likes', h1, [
    { uri: 'at://did:plc:x/app.bsky.feed.like/l1', author_did: 'did:plc:x', rkey: 'l1', rev: tid(BigInt(h1 + 60_000) * 1000n, 7), subject_uri: p[0]!.uri as string, indexed_at: p[0]!.indexed_at as string },
  ]);
  // Post 1 deleted in the same hour, after it was flushed.
  await writeBatch(ctx.conn, dir, 'deletes', h1, [deleteOf(p[0]!.uri as string, h1 + 30 * 60_000)]);

  const s1 = await compact(ctx, FAST);
  t.equal(s1.hours_compacted, 1);
  t.same(s1.tables.posts, { rows_in: 4, rows_out: 3, duplicates_removed: 0, deleted_removed: 1 });
  t.equal(await countFiles(ctx.conn, await listTableFiles(dir, 'posts')), 3);
  t.equal(s1.tables.deletes?.rows_out, 1, 'the delete itself is kept');

  // Post 3 deleted two hours later, in an hour that is not compacted yet (or still open).
  await writeBatch(ctx.conn, dir, 'deletes', h2, [deleteOf(p[2]!.uri as string, h2 + 60_000)]);
  await writeBatch(ctx.conn, dir, 'deletes', hourStart(0), [deleteOf('at://did:plc:x/app.bsky.feed.like/l1', Date.now())]);
  const s2 = await compact(ctx, FAST);
  t.equal(s2.hours_compacted, 2, 'the earlier hour is re-compacted, and the later hour compacted');
  t.same(s2.tables.posts, { rows_in: 3, rows_out: 2, duplicates_removed: 0, deleted_removed: 1 });
  t.same(s2.tables.likes, { rows_in: 1, rows_out: 0, duplicates_removed: 0, deleted_removed: 1 }, 'a deleted like goes too');
  const left = await rows(ctx.conn, `SELECT uri FROM read_parquet([${(await listTableFiles(dir, 'posts')).map(sqlString).join(', ')}]) ORDER BY uri`);
  t.same(left.map((r) => r.uri), [p[1]!.uri, p[3]!.uri].sort());
  const glob = await rows(ctx.conn, `SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlString(path.join(dir, '**/posts*.parquet'))}, hive_partitioning = true)`);
  t.same(glob, [{ n: 2n }], 'the glob view agrees');

  const s3 = await compact(ctx, FAST);
  t.equal(s3.hours_compacted, 0, 'nothing left to do');
});

t.test('a record re-created after its delete is kept; the open hour is not compacted', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const h = hourStart(4);
  const old = post(1, h + 60_000);
  // Same uri (same rkey), committed again after the delete: a later revision.
  const againRev = tid(BigInt(h + 50 * 60_000) * 1000n, 1);
  const again = post(1, h + 50 * 60_000, { uri: old.uri!, rkey: old.rkey!, rev: againRev });
  await writeBatch(ctx.conn, dir, 'posts', h, [old, again]);
  await writeBatch(ctx.conn, dir, 'deletes', h, [deleteOf(old.uri as string, h + 10 * 60_000)]);
  const open = hourStart(0);
  await writeBatch(ctx.conn, dir, 'posts', open, [post(9, Date.now())]);

  const s = await compact(ctx, FAST);
  t.equal(s.hours_compacted, 1);
  const kept = await rows(ctx.conn, `SELECT rev FROM read_parquet([${(await listTableFiles(dir, 'posts', { toUs: BigInt(h + 3_599_999) * 1000n })).map(sqlString).join(', ')}])`);
  t.same(kept, [{ rev: againRev }]);
  const openDir = partitionDir(dir, hourOfMs(open));
  t.equal(await readManifest(openDir), undefined, 'open hour untouched');
  t.equal(readdirSync(openDir).filter((n) => n.startsWith('posts-')).length, 1);
});

t.test('a delete stamped in the hour before its post (another Jetstream clock) removes it, also when applied in an earlier run', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const h = hourStart(4);
  const victim = post(1, h + 5 * 60_000);
  // Filed under the previous hour by a clock 15 minutes behind, but committed (rev) after the post.
  const del = { ...deleteOf(victim.uri as string, h - 10 * 60_000), rev: tid(BigInt(h + 20 * 60_000) * 1000n, 3) };
  await writeBatch(ctx.conn, dir, 'deletes', h - HOUR_MS, [del]);
  const s1 = await compact(ctx, FAST);
  t.equal(s1.hours_compacted, 1, 'the deletes hour, alone');
  // The post's batch reaches the tree only now (a late flush): the delete is no longer new.
  await writeBatch(ctx.conn, dir, 'posts', h, [victim, post(2, h + 6 * 60_000)]);
  const s2 = await compact(ctx, FAST);
  t.same(s2.tables.posts, { rows_in: 2, rows_out: 1, duplicates_removed: 0, deleted_removed: 1 });
  const left = await rows(ctx.conn, `SELECT rkey FROM read_parquet([${(await listTableFiles(dir, 'posts')).map(sqlString).join(', ')}])`);
  t.same(left, [{ rkey: post(2, h + 6 * 60_000).rkey }]);
});

t.test('a second run while one holds the lock does nothing', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  await env.redis.set(ctx.keys.compactLock, 'someone-else', 'PX', 60_000);
  const s = await compact(ctx, FAST);
  t.equal(s.skipped, 'locked');
  t.equal(s.hours_compacted, 0);
  t.equal(await env.redis.get(ctx.keys.compactLock), 'someone-else', 'the other owner keeps its lock');
});

t.test('row groups of PARQUET_ROW_GROUP_SIZE rows with disjoint sort_at ranges (min/max pruning works)', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const h = hourStart(3);
  // Two batches covering interleaved times, so only the compaction's sort makes row groups disjoint.
  await writePostsRange(ctx.conn, dir, h, 0, 3000);
  await writePostsRange(ctx.conn, dir, h, 3000, 6000);
  const s = await compact(ctx, { ...FAST, rowGroupSize: 2048 });
  t.same(s.tables.posts, { rows_in: 6000, rows_out: 6000, duplicates_removed: 0, deleted_removed: 0 });
  const [file] = await listTableFiles(dir, 'posts');
  const groups = await rows(
    ctx.conn,
    `SELECT row_group_id, row_group_num_rows::BIGINT AS n, stats_min, stats_max, compression FROM parquet_metadata(${sqlString(file!)})
     WHERE path_in_schema = 'sort_at' ORDER BY row_group_id`,
  );
  t.same(groups.map((g) => Number(g.n)), [2048, 2048, 1904]);
  t.ok(groups.every((g) => g.compression === 'ZSTD'));
  for (let i = 1; i < groups.length; i++) {
    t.ok(String(groups[i]!.stats_min) >= String(groups[i - 1]!.stats_max), `row group ${i} starts after row group ${i - 1} ends`);
  }
});

/** 5000 posts in one hour, compacted with the settings `env`: the compacted posts file and the connection. */
async function compactedPostsFile(t: Parameters<typeof makeTestEnv>[0], env: Record<string, string>) {
  const testEnv = await makeTestEnv(t, env);
  const ctx = await compactContext(t, testEnv);
  const dir = testEnv.cfg.storage.parquetDir;
  await writePostsRange(ctx.conn, dir, hourStart(4), 0, 5000);
  await compact(ctx, FAST);
  const [file] = await listTableFiles(dir, 'posts');
  return { ctx, file };
}

t.test('posts files use PARQUET_POINT_ROW_GROUP_SIZE (search pages read them row by row), other tables PARQUET_ROW_GROUP_SIZE', async (t) => {
  const { ctx, file } = await compactedPostsFile(t, { PARQUET_POINT_ROW_GROUP_SIZE: '2048', PARQUET_ROW_GROUP_SIZE: '8192' });
  const groups = await rows(ctx.conn, `SELECT row_group_num_rows::BIGINT AS n FROM parquet_metadata(${sqlString(file!)}) WHERE path_in_schema = 'uri' ORDER BY row_group_id`);
  t.same(groups.map((g) => Number(g.n)), [2048, 2048, 904], 'not one 5000-row group of PARQUET_ROW_GROUP_SIZE');
});

t.test('COMPACT_ZSTD_LEVEL sets the compression level of compacted files: the same rows, smaller at 19 than at 1', async (t) => {
  const sizes: number[] = [];
  const contents: string[] = [];
  for (const level of ['1', '19']) {
    const { ctx, file } = await compactedPostsFile(t, { COMPACT_ZSTD_LEVEL: level });
    const [size] = await rows(ctx.conn, `SELECT sum(total_compressed_size)::BIGINT AS n FROM parquet_metadata(${sqlString(file!)})`);
    sizes.push(Number(size!.n));
    const [digest] = await rows(ctx.conn, `SELECT md5(string_agg(uri || text, ',' ORDER BY uri)) AS d, count(*)::BIGINT AS n FROM read_parquet(${sqlString(file!)})`);
    contents.push(`${digest!.n}:${digest!.d}`);
  }
  t.equal(contents[0], contents[1], 'same 5000 rows at both levels');
  t.ok(sizes[1]! < sizes[0]! * 0.97, `level 19 (${sizes[1]} bytes of pages) at least 3% smaller than level 1 (${sizes[0]})`);
  t.throws(() => loadConfig({ COMPACT_ZSTD_LEVEL: '23' }), /COMPACT_ZSTD_LEVEL/, 'a level past 22 is refused at start');
});

t.test('a later delete is mapped to its record\'s hour by the TID key; other keys check every recent hour', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const [hA, hB, hC] = [hourStart(9), hourStart(7), hourStart(5)];
  const a = post(1, hA + 60_000);
  const b = post(2, hB + 60_000);
  const custom = post(3, hB + 120_000, { rkey: 'my-custom-key', uri: 'at://did:plc:author0/app.bsky.feed.post/my-custom-key' });
  await writeBatch(ctx.conn, dir, 'posts', hA, [a, post(4, hA + 90_000)]);
  await writeBatch(ctx.conn, dir, 'posts', hB, [b, custom]);
  t.equal((await compact(ctx, FAST)).hours_compacted, 2);

  const [tidRow] = await rows(ctx.conn, `SELECT ${tidHourSql(sqlString(a.rkey as string))} AS h`);
  t.equal(Number(tidRow!.h), Math.floor((hA + 60_000) / 3_600_000), 'TID → creation hour');

  await writeBatch(ctx.conn, dir, 'deletes', hC, [deleteOf(b.uri as string, hC + 60_000), deleteOf(custom.uri as string, hC + 60_000)]);
  const s = await compact(ctx, FAST);
  t.same(s.tables.posts, { rows_in: 2, rows_out: 0, duplicates_removed: 0, deleted_removed: 2 }, 'only hour B was read and rewritten');
  t.equal(s.hours_compacted, 2, 'hour B re-compacted, hour C (the deletes) compacted');
  const left = await rows(ctx.conn, `SELECT uri FROM read_parquet([${(await listTableFiles(dir, 'posts')).map(sqlString).join(', ')}]) ORDER BY uri`);
  t.same(left.map((r) => r.uri), [a.uri, post(4, hA + 90_000).uri].sort());
  const again = await compact(ctx, FAST);
  t.equal(again.hours_compacted, 0, 'applied deletes files are remembered (including the compacted deletes hour)');
});

t.test('a run that stopped after the switch is published by the next one; leftovers of a crash are removed', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const h = hourStart(4);
  const hourDir = partitionDir(dir, hourOfMs(h));
  await writeBatch(ctx.conn, dir, 'posts', h, [post(1, h + 60_000), post(2, h + 120_000)]);
  await writeBatch(ctx.conn, dir, 'posts', h, [post(2, h + 120_000)]);

  // As if the process died right after the manifest switch: nothing published yet.
  let clock = Date.now();
  const s1 = await compact(ctx, { swapGraceMs: 60_000, graceMinutes: 15, waitForPublish: false, clock: () => clock });
  t.equal(s1.hours_compacted, 1);
  t.equal(s1.hours_published, 0);
  t.equal(await countFiles(ctx.conn, await listTableFiles(dir, 'posts')), 2, 'the catalog already reads the new generation');
  t.same(readdirSync(hourDir).filter((n) => n.endsWith('.parquet')).length, 2, 'the glob view still has the two batch files');

  // Leftovers of a crash during a later merge: a temporary generation, an unreferenced one, a link temporary.
  const junk = ['.compact/posts.2.pq.999.tmp', '.compact/posts.7.pq', '.posts.parquet.0badc0de.tmp'];
  for (const j of junk) writeFileSync(path.join(hourDir, j), 'x');
  writeFileSync(path.join(hourDir, '.posts-0000000000001-0_0000000000002-0.parquet.tmp'), 'a flush at work');

  clock += 30_000;
  const s2 = await compact(ctx, { swapGraceMs: 60_000, graceMinutes: 15, waitForPublish: false, clock: () => clock });
  t.equal(s2.hours_published, 0, 'not before the grace period');
  clock += 31_000;
  await writeBatch(ctx.conn, dir, 'posts', h, [post(3, h + 180_000)]);
  const s3 = await compact(ctx, { swapGraceMs: 60_000, graceMinutes: 15, waitForPublish: false, clock: () => clock });
  t.equal(s3.hours_published, 1, 'published by the next run');
  t.equal(s3.hours_compacted, 1, 'and the late batch merged');
  t.equal(s3.files_removed, 2, 'the two replaced batch files');
  for (const j of junk) t.notOk(existsSync(path.join(hourDir, j)), `${j} removed`);
  t.ok(existsSync(path.join(hourDir, '.posts-0000000000001-0_0000000000002-0.parquet.tmp')), "a flush's temporary file is not ours to remove");
  t.equal(await countFiles(ctx.conn, await listTableFiles(dir, 'posts')), 3);
  const m = (await readManifest(hourDir))!.tables.posts!;
  t.equal(m.gen, 2);
  t.equal(m.published, false);
  t.same(m.retired.map((r) => r.file), ['.compact/posts.1.pq'], 'generation 1 kept while queries may read it');
  t.equal(m.replaces.length, 3);
});

t.test('an empty or missing tree is a no-op', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const s = await compact(ctx, FAST);
  t.same({ ...s, duration_ms: 0 }, { hours_compacted: 0, hours_published: 0, tables: {}, bytes_before: 0, bytes_after: 0, files_removed: 0, duration_ms: 0 });
  t.equal(await env.redis.exists(ctx.keys.compactLock), 0, 'the lock is released');
});

t.test('enrichment scores: a row goes only when a later one covers its features; import order kept (the API merges per feature)', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await compactContext(t, env);
  const dir = env.cfg.storage.parquetDir;
  const h = hourStart(3);
  const uri = post(1, h).uri as string;
  const at = isoAt(h + 60_000);
  const full = { uri, model: 'm1', scored_at: at, political_score: 0.9, toxicity_score: 0.2 };
  const partial = { uri, model: 'm1', scored_at: at, political_score: null, toxicity_score: 0.4 };
  await writeBatch(ctx.conn, dir, 'post_features', h, [full]);
  await writeBatch(ctx.conn, dir, 'post_features', h, [partial]);
  await writeBatch(ctx.conn, dir, 'post_features', h, [full, partial]); // a re-send of both
  const s = await compact(ctx, FAST);
  t.same(s.tables.post_features, { rows_in: 4, rows_out: 2, duplicates_removed: 2, deleted_removed: 0 });
  const [file] = await listTableFiles(dir, 'post_features');
  const got = await rows(ctx.conn, `SELECT political_score, toxicity_score FROM read_parquet(${sqlString(file!)}) ORDER BY file_row_number`);
  // The first `full` and `partial` are covered by the re-sent `full`; the re-sent `full` stays although
  // `partial` is later, because `partial` has no political_score. Order: as imported.
  t.same(got, [{ political_score: 0.9, toxicity_score: 0.2 }, { political_score: null, toxicity_score: 0.4 }]);
});
