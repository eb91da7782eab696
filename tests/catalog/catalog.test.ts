import t from 'tap';
import { renameSync, utimesSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { emptyManifest, writeManifest } from '../../shared/compact/manifest.js';
import { listHourDirs, listTableFiles, listTablesFiles, spanOverlaps } from '../../shared/parquet/catalog.js';

const B1 = '1783175888090-0_1783175888400-5';
const B2 = '1783175899000-0_1783175899999-2';
const B3 = '1783175900000-0_1783175900100-1';

async function tree(t: { teardown(fn: () => unknown): void }, files: string[]): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'catalog-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const f of files) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await writeFile(path.join(root, f), '');
  }
  return root;
}

const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
const rel = (root: string, files: string[]) => files.map((f) => path.relative(root, f));

t.test('spanOverlaps: half-open spans against an inclusive range', async (t) => {
  t.equal(spanOverlaps(0, 10, undefined, undefined), true);
  t.equal(spanOverlaps(0, 10, 10, undefined), false, 'from at the span end excludes it');
  t.equal(spanOverlaps(0, 10, 9, undefined), true);
  t.equal(spanOverlaps(0, 10, undefined, 0), true, 'to at the span start includes it');
  t.equal(spanOverlaps(0, 10, undefined, -1), false);
});

t.test('hour partitions are pruned by the range at every level; odd folders are ignored', async (t) => {
  const root = await tree(t, [
    `year=2025/month=12/day=31/hour=23/posts-${B1}.parquet`,
    `year=2026/month=11/day=29/hour=23/posts-${B1}.parquet`,
    `year=2026/month=11/day=30/hour=00/posts-${B1}.parquet`,
    `year=2026/month=11/day=30/hour=01/posts-${B1}.parquet`,
    `year=2026/month=11/day=31/hour=01/posts-${B1}.parquet`,
    `year=2026/month=11/day=30/hour=24/posts-${B1}.parquet`,
    `year=2026/month=13/day=01/hour=00/posts-${B1}.parquet`,
    `year=26/month=11/day=30/hour=00/posts-${B1}.parquet`,
    `other/posts-${B1}.parquet`,
  ]);
  const all = await listHourDirs(root);
  t.same(
    all.map((h) => new Date(h.hour.startMs).toISOString()),
    ['2025-12-31T23:00:00.000Z', '2026-11-29T23:00:00.000Z', '2026-11-30T00:00:00.000Z', '2026-11-30T01:00:00.000Z'],
  );
  const hoursOf = async (range: Parameters<typeof listTableFiles>[2]) =>
    rel(root, await listTableFiles(root, 'posts', range)).map((f) => f.split('/').slice(0, 4).join('/'));
  t.same(await hoursOf({ fromUs: us('2026-11-30T00:30:00Z'), toUs: us('2026-11-30T00:45:00Z') }), ['year=2026/month=11/day=30/hour=00']);
  t.same(await hoursOf({ fromUs: us('2026-11-30T00:00:00Z') }), ['year=2026/month=11/day=30/hour=00', 'year=2026/month=11/day=30/hour=01']);
  t.same(await hoursOf({ fromUs: us('2026-11-30T01:00:00Z') }), ['year=2026/month=11/day=30/hour=01'], 'from at an hour end excludes that hour');
  t.same(await hoursOf({ toUs: us('2026-11-30T00:00:00Z') }), [
    'year=2025/month=12/day=31/hour=23',
    'year=2026/month=11/day=29/hour=23',
    'year=2026/month=11/day=30/hour=00',
  ]);
  t.same(await hoursOf({ fromUs: Number(us('2027-01-01T00:00:00Z')) }), [], 'numbers work as well as bigints');
  t.same(await listTableFiles(path.join(root, 'missing'), 'posts'), [], 'no tree yet: no files');
});

t.test('per hour: batch files of the table only, a bare compacted file, never temporaries', async (t) => {
  const h = 'year=2026/month=11/day=30/hour=05';
  const root = await tree(t, [
    `${h}/posts-${B2}.parquet`,
    `${h}/posts-${B1}.parquet`,
    `${h}/.posts-${B3}.parquet.tmp`,
    `${h}/posts-${B3}.parquet.tmp`,
    `${h}/post_features-${B1}.parquet`,
    `${h}/likes-${B1}.parquet`,
    `${h}/posts-notabatch.parquet`,
    `${h}/likes.parquet`,
  ]);
  t.same(rel(root, await listTableFiles(root, 'posts')), [`${h}/posts-${B1}.parquet`, `${h}/posts-${B2}.parquet`]);
  t.same(rel(root, await listTableFiles(root, 'likes')), [`${h}/likes.parquet`, `${h}/likes-${B1}.parquet`], 'no manifest: a bare file is data too');
  t.same(rel(root, await listTableFiles(root, 'post_features')), [`${h}/post_features-${B1}.parquet`]);
});

t.test('with a manifest: the generation file plus batch files it does not hold, never the replaced ones', async (t) => {
  const h = 'year=2026/month=11/day=30/hour=06';
  const root = await tree(t, [
    `${h}/posts-${B1}.parquet`,
    `${h}/posts-${B2}.parquet`,
    `${h}/posts-${B3}.parquet`,
    `${h}/posts.parquet`,
    `${h}/.compact/posts.1.pq`,
    `${h}/.compact/posts.2.pq`,
    `${h}/likes-${B1}.parquet`,
  ]);
  const m = emptyManifest();
  m.tables.posts = {
    gen: 2,
    file: '.compact/posts.2.pq',
    replaces: [`posts-${B1}.parquet`, `posts-${B2}.parquet`],
    switchedAt: Date.now(),
    rows: 10,
    bytes: 100,
    published: false,
    retired: [{ file: '.compact/posts.1.pq', at: Date.now() }],
  };
  await writeManifest(path.join(root, h), m);
  t.same(rel(root, await listTableFiles(root, 'posts')), [`${h}/.compact/posts.2.pq`, `${h}/posts-${B3}.parquet`]);
  t.same(rel(root, await listTableFiles(root, 'likes')), [`${h}/likes-${B1}.parquet`], 'tables without an entry are unaffected');
});

t.test('a corrupt manifest is an error, not a silent guess', async (t) => {
  const h = 'year=2026/month=11/day=30/hour=07';
  const root = await tree(t, [`${h}/posts-${B1}.parquet`]);
  await writeFile(path.join(root, h, '_compaction.json'), '{"version": 1, "tables": ');
  await t.rejects(listTableFiles(root, 'posts'), /corrupt compaction manifest/);
});

t.test('cached hour listings follow every change of the folder', async (t) => {
  const h = 'year=2026/month=11/day=30/hour=08';
  const root = await tree(t, [`${h}/posts-${B1}.parquet`]);
  const hourDir = path.join(root, h);
  // An hour last changed a minute ago is cached…
  const old = new Date(Date.now() - 60_000);
  utimesSync(hourDir, old, old);
  t.same(rel(root, await listTableFiles(root, 'posts')), [`${h}/posts-${B1}.parquet`]);
  t.same(rel(root, await listTableFiles(root, 'posts')), [`${h}/posts-${B1}.parquet`], 'served again');
  // …and a file renamed in, or a manifest renamed over, moves the folder's mtime: both are seen at once.
  await writeFile(path.join(root, h, `.x.tmp`), '');
  renameSync(path.join(root, h, `.x.tmp`), path.join(root, h, `posts-${B2}.parquet`));
  t.same(rel(root, await listTableFiles(root, 'posts')), [`${h}/posts-${B1}.parquet`, `${h}/posts-${B2}.parquet`]);
  utimesSync(hourDir, old, old);
  await listTableFiles(root, 'posts');
  const m = emptyManifest();
  m.tables.posts = { gen: 1, file: '.compact/posts.1.pq', replaces: [`posts-${B1}.parquet`, `posts-${B2}.parquet`], switchedAt: 0, rows: 0, bytes: 0, published: false, retired: [] };
  await writeManifest(hourDir, m);
  t.same(rel(root, await listTableFiles(root, 'posts')), [`${h}/.compact/posts.1.pq`]);
  // Concurrent listings of several tables read the folder once and agree.
  const [a, b] = await Promise.all([listTableFiles(root, 'posts'), listTableFiles(root, 'likes')]);
  t.same(rel(root, a), [`${h}/.compact/posts.1.pq`]);
  t.same(b, []);
});

t.test('listTablesFiles: several tables from one walk, each with its own range, as listTableFiles lists them one by one', async (t) => {
  const hours = ['year=2026/month=11/day=29/hour=23', 'year=2026/month=11/day=30/hour=00', 'year=2026/month=11/day=30/hour=01'];
  const root = await tree(t, hours.flatMap((h) => [`${h}/posts-${B1}.parquet`, `${h}/deletes-${B1}.parquet`, `${h}/deletes-${B2}.parquet`, `${h}/likes-${B1}.parquet`]));
  // The middle hour is compacted for posts: its generation replaces B1, a late batch B2 stays beside it.
  const mid = path.join(root, hours[1]!);
  await writeFile(path.join(mid, `posts-${B2}.parquet`), '');
  const m = emptyManifest();
  m.tables.posts = { gen: 2, file: '.compact/posts.2.pq', replaces: [`posts-${B1}.parquet`], switchedAt: 0, rows: 0, bytes: 0, published: false, retired: [] };
  await writeManifest(mid, m);
  const postsRange = { fromUs: us('2026-11-30T00:10:00Z') };
  const deletesRange = { toUs: us('2026-11-30T00:00:00Z') };
  const got = await listTablesFiles(root, { posts: postsRange, deletes: deletesRange, likes: undefined, blocks: undefined });
  t.same(rel(root, got.posts), [`${hours[1]}/.compact/posts.2.pq`, `${hours[1]}/posts-${B2}.parquet`, `${hours[2]}/posts-${B1}.parquet`]);
  t.same(rel(root, got.deletes), [0, 1].flatMap((i) => [`${hours[i]}/deletes-${B1}.parquet`, `${hours[i]}/deletes-${B2}.parquet`]));
  t.same(rel(root, got.likes), hours.map((h) => `${h}/likes-${B1}.parquet`));
  t.same(got.blocks, []);
  t.same(got.posts, await listTableFiles(root, 'posts', postsRange));
  t.same(got.deletes, await listTableFiles(root, 'deletes', deletesRange));
  t.same(got.likes, await listTableFiles(root, 'likes'));
  // A caller changing its list does not change what the next query is told.
  got.likes.length = 0;
  t.same(rel(root, (await listTablesFiles(root, { likes: undefined })).likes), hours.map((h) => `${h}/likes-${B1}.parquet`));
});
