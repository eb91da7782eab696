/**
 * The backup and restore procedure of k3s/README.md, run for real on this machine with the very
 * scripts the CronJobs mount (k3s/backup/backup.sh, restore.sh) and restic, against a local restic
 * repository instead of S3: a Parquet tree written by the real flush is backed up, deleted, restored,
 * and DuckDB gives the same answers; a Redis append-only directory is backed up, the Redis and its
 * files are destroyed, and a Redis started on the restored files holds the same stream.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import t from 'tap';
import { createContext } from '../../shared/context.js';
import { sqlString } from '../../shared/duckdb.js';
import { runFlush } from '../../shared/flush/index.js';
import { makeTestEnv, waitFor } from '../helpers/env.js';
import { freePort, start } from '../monitoring/lib/procs.js';
import { ROOT } from './lib/manifests.js';

const run = promisify(execFile);
const SCRIPTS = path.join(ROOT, 'k3s/backup');
const lines = readFileSync(path.join(ROOT, 'tests/fixtures/jetstream-real-152.jsonl'), 'utf8').split('\n').filter(Boolean);

function resticEnv(repo: string, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: path.dirname(repo),
    TMPDIR: path.dirname(repo),
    RESTIC_REPOSITORY: repo,
    RESTIC_PASSWORD: 'test-only-password',
    RESTIC_CACHE_DIR: path.join(path.dirname(repo), 'cache'),
    BACKUP_HOST: 'bsky',
    ...extra,
  };
}

async function sh(script: string, env: Record<string, string>): Promise<string> {
  const { stdout, stderr } = await run('/bin/sh', [path.join(SCRIPTS, script)], { env, timeout: 60_000 });
  return stdout + stderr;
}

/** path → sha256 of every file under dir. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** The answers a researcher would get: rows per table, and the posts themselves. */
async function answers(parquetDir: string): Promise<unknown> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const tables = [...new Set(Object.keys(hashes(parquetDir)).map((f) => path.basename(f).replace(/[-.].*$/, '')))].sort();
    const out: Record<string, unknown> = {};
    for (const table of tables) {
      const src = `read_parquet(${sqlString(`${parquetDir}/**/${table}-*.parquet`)}, hive_partitioning = true)`;
      out[table] = (await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${src}`)).getRowObjectsJson();
    }
    const posts = `read_parquet(${sqlString(`${parquetDir}/**/posts-*.parquet`)}, hive_partitioning = true)`;
    out.posts_rows = (await conn.runAndReadAll(`SELECT uri, text, hour FROM ${posts} ORDER BY uri`)).getRowObjectsJson();
    return out;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

t.test('Parquet: back up with backup.sh, delete, restore with restore.sh, same files and same DuckDB answers', async (t) => {
  const env = await makeTestEnv(t);
  const work = mkdtempSync(path.join(os.tmpdir(), 'bsky-restic-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const repo = path.join(work, 'repo');

  // A real tree: the fixture through the real flush.
  const p = env.redis.pipeline();
  for (const l of lines) p.xadd(`${env.prefix}events`, '*', 'e', l);
  await p.exec();
  const ctx = await createContext(env.cfg, 'test', { redis: env.redis });
  t.teardown(() => ctx.destroy());
  const summary = await runFlush(ctx);
  t.equal(summary.events_read, 152);
  const parquetDir = env.cfg.storage.parquetDir;
  const before = hashes(parquetDir);
  const expected = await answers(parquetDir);
  t.ok(Object.keys(before).length >= 5, `${Object.keys(before).length} Parquet files`);
  t.equal(((expected as Record<string, Array<{ n: number }>>).likes![0]!).n, 105, '105 likes in the fixture');

  // Two backups on the same day; the retention policy (daily) keeps one snapshot.
  const benv = resticEnv(repo, { BACKUP_TAG: 'parquet', BACKUP_PATHS: env.dataDir });
  t.match(await sh('backup.sh', benv), /initialising repository[\s\S]*done/);
  t.match(await sh('backup.sh', benv), /done/);
  const { stdout } = await run('restic', ['snapshots', '--json', '--tag', 'parquet'], { env: benv });
  const snaps = JSON.parse(stdout) as Array<{ paths: string[]; hostname: string; tags: string[] }>;
  t.equal(snaps.length, 1, 'forget --keep-daily kept one snapshot of the day');
  t.same([snaps[0]!.paths, snaps[0]!.hostname, snaps[0]!.tags], [[env.dataDir], 'bsky', ['parquet']]);

  // Disaster, then the documented restore.
  rmSync(env.dataDir, { recursive: true, force: true });
  t.throws(() => statSync(parquetDir), 'the tree is gone');
  const out = await sh('restore.sh', { ...benv, SOURCE_PATH: env.dataDir, RESTORE_TO: env.dataDir });
  t.match(out, `restored ${env.dataDir} (parquet, snapshot latest)`);
  t.same(hashes(parquetDir), before, 'every Parquet file back, byte for byte');
  t.same(await answers(parquetDir), expected, 'DuckDB answers the same queries the same way');

  // A second restore over the restored tree refuses to overwrite anything.
  const again = sh('restore.sh', { ...benv, SOURCE_PATH: env.dataDir, RESTORE_TO: env.dataDir });
  await t.rejects(again, /already exists: move it aside first, nothing was changed/);
  t.same(hashes(parquetDir), before, 'nothing changed by the refused restore');
  t.same(readdirSync(env.dataDir).filter((n) => n.startsWith('.restore.')), [], 'scratch folder removed');
});

t.test('Redis: the append-only directory backed up and restored brings the stream back', async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'bsky-restic-redis-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const repo = path.join(work, 'repo');
  const redisDir = path.join(work, 'redis');
  const startRedis = async () => {
    const port = await freePort();
    const proc = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--appenddirname', 'appendonlydir'], { cwd: work, env: process.env });
    t.teardown(() => proc.stop());
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    await waitFor('private redis up', async () => {
      await client.connect().catch(() => undefined);
      return (await client.ping().catch(() => '')) === 'PONG';
    }, 10_000, 50);
    t.teardown(() => client.quit().catch(() => client.disconnect()));
    return { proc, client };
  };
  await import('node:fs/promises').then((fs) => fs.mkdir(redisDir, { recursive: true }));
  const a = await startRedis();
  const p = a.client.pipeline();
  for (const l of lines) p.xadd('bsky:events', '*', 'e', l);
  p.set('bsky:cursor', '1783175888403568');
  await p.exec();
  const stream = await a.client.xrange('bsky:events', '-', '+');

  const benv = resticEnv(repo, { BACKUP_TAG: 'redis', BACKUP_PATHS: path.join(redisDir, 'appendonlydir') });
  t.match(await sh('backup.sh', benv), /done/);
  // Lose Redis and its volume.
  a.proc.child.kill('SIGKILL');
  await waitFor('redis killed', () => a.proc.child.exitCode !== null || a.proc.child.signalCode !== null);
  rmSync(redisDir, { recursive: true, force: true });

  await sh('restore.sh', { ...benv, SOURCE_PATH: path.join(redisDir, 'appendonlydir'), RESTORE_TO: path.join(redisDir, 'appendonlydir') });
  const b = await startRedis();
  t.equal(await b.client.xlen('bsky:events'), 152);
  t.same(await b.client.xrange('bsky:events', '-', '+'), stream, 'same entries, same ids');
  t.equal(await b.client.get('bsky:cursor'), '1783175888403568');
});
