/** Several batches per run: FLUSH_BATCH_SIZE and FLUSH_MAX_BATCHES bound a run; the next run continues. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tap from 'tap';
import { runFlush } from '../../shared/flush/index.js';
import { fixtureLines, listFiles, makeFlushEnv, readTable, xaddLines } from './helpers.js';

tap.test('a run converts up to FLUSH_MAX_BATCHES batches of FLUSH_BATCH_SIZE entries', async (t) => {
  const env = await makeFlushEnv(t, { FLUSH_BATCH_SIZE: '4', FLUSH_MAX_BATCHES: '2' });
  await xaddLines(env.redis, env.ctx.keys.stream, fixtureLines('jetstream-golden-10.jsonl'));
  const s1 = await runFlush(env.ctx);
  t.match(s1, { batches: 2, events_read: 8, stream_length: 2 });
  const s2 = await runFlush(env.ctx);
  t.match(s2, { batches: 1, events_read: 2, stream_length: 0 });
  const files = await listFiles(env.cfg.storage.parquetDir);
  t.equal(files.length, s1.files_written + s2.files_written);
  t.equal(new Set(files.map((f) => f.replace(/^.*-(\d{13}-\d+_\d{13}-\d+)\.parquet$/, '$1'))).size, 3, 'three batch names');
  let total = 0;
  for (const table of ['posts', 'likes', 'reposts', 'follows', 'blocks', 'profiles', 'records', 'deletes', 'identities', 'accounts']) {
    total += (await readTable(env.duckdb, env.cfg.storage.parquetDir, table, 'indexed_at')).length;
  }
  t.equal(total, 10, 'every event once');
});

tap.test('a batch larger than FLUSH_SLICE_SIZE is converted slice by slice, each with its own files', async (t) => {
  const env = await makeFlushEnv(t, { FLUSH_SLICE_SIZE: '50' });
  await xaddLines(env.redis, env.ctx.keys.stream, fixtureLines('jetstream-real-152.jsonl'));
  const s = await runFlush(env.ctx);
  t.match(s, { batches: 4, events_read: 152, stream_length: 0, quarantined: 0 });
  t.same(s.rows, { posts: 17, likes: 105, reposts: 15, follows: 6, blocks: 1, profiles: 0, records: 2, deletes: 4, identities: 1, accounts: 1 });
  const names = new Set(s.files.map((f) => f.replace(/^.*-(\d{13}-\d+_\d{13}-\d+)\.parquet$/, '$1')));
  t.equal(names.size, 4, 'one batch name per slice');
  const likes = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'likes', 'count(DISTINCT uri) AS n, count(*) AS m');
  t.same(likes, [{ n: '105', m: '105' }]);
});

tap.test('line files left by a dead flush process are swept at the next run', async (t) => {
  const env = await makeFlushEnv(t);
  const child = spawnSync(process.execPath, ['-e', '']);
  const stale = path.join(os.tmpdir(), `bsky-flush-${child.pid}-0a1b2c3d-0000-4000-8000-000000000000.lines`);
  const mine = path.join(os.tmpdir(), `bsky-flush-${process.pid}-0a1b2c3d-0000-4000-8000-000000000001.lines`);
  await writeFile(stale, 'x');
  await writeFile(mine, 'x');
  t.teardown(() => rm(mine, { force: true }));
  await runFlush(env.ctx);
  t.equal(existsSync(stale), false, 'dead process: removed');
  t.equal(existsSync(mine), true, 'live process: kept');
});
