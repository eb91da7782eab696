/**
 * Compaction over the real flush's files: the 152 real Jetstream events, flushed twice (a replay after the
 * first batch was acknowledged) plus a later delete of one of their posts, then compacted. Every table
 * must come out with one row per fact, without the deleted post, through the catalog and the plain glob.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { compact } from '../../shared/compact/compact.js';
import { createContext } from '../../shared/context.js';
import { sqlIdent, sqlString } from '../../shared/duckdb.js';
import { runFlush } from '../../shared/flush/index.js';
import { createLogger } from '../../shared/log.js';
import { listTableFiles } from '../../shared/parquet/catalog.js';
import { FIREHOSE_TABLES } from '../../shared/tables/index.js';
import { makeTestEnv } from '../helpers/env.js';
import { rows } from './fixtures.js';

const LINES = readFileSync(path.join(import.meta.dirname, '../fixtures/jetstream-real-152.jsonl'), 'utf8').split('\n').filter(Boolean);

t.test('real flush files: a replay and a later delete are gone after compaction', async (t) => {
  const env = await makeTestEnv(t);
  const ctx = await createContext(env.cfg, 'test:compact', { redis: env.redis, log: createLogger('test', { level: 'silent' }) });
  t.teardown(() => ctx.destroy());
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  t.teardown(() => {
    conn.closeSync();
    db.closeSync();
  });
  const dir = env.cfg.storage.parquetDir;

  // A post of the fixture, deleted an hour and a half later (a later hour partition).
  const victim = LINES.map((l) => JSON.parse(l) as { did: string; time_us: number; kind: string; commit?: { operation: string; collection: string; rkey: string } }).find(
    (e) => e.kind === 'commit' && e.commit!.operation === 'create' && e.commit!.collection === 'app.bsky.feed.post',
  )!;
  const del = JSON.stringify({
    did: victim.did,
    time_us: victim.time_us + 5_400_000_000,
    kind: 'commit',
    commit: { rev: 'zzzzzzzzzzzzz', operation: 'delete', collection: 'app.bsky.feed.post', rkey: victim.commit!.rkey },
  });
  const victimUri = `at://${victim.did}/app.bsky.feed.post/${victim.commit!.rkey}`;

  const add = async (lines: string[]) => {
    const p = env.redis.pipeline();
    for (const l of lines) p.xadd(ctx.keys.stream, '*', 'e', l);
    await p.exec();
    await runFlush(ctx);
  };
  await add(LINES);
  // What one clean flush gives, per table: the expectation (minus the victim, below).
  const once: Record<string, number> = {};
  for (const table of FIREHOSE_TABLES) {
    const files = await listTableFiles(dir, table.name);
    once[table.name] = files.length ? Number((await rows(conn, `SELECT count(*)::BIGINT AS n FROM read_parquet([${files.map(sqlString).join(', ')}])`))[0]!.n) : 0;
  }
  t.ok(once.posts! > 1 && once.likes! > 50, 'the fixture has posts and likes');
  await add(LINES); // the replay: same events, new stream entries, a second batch file
  await add([del]);

  const before = await listTableFiles(dir, 'posts');
  const dup = Number((await rows(conn, `SELECT count(*)::BIGINT AS n FROM read_parquet([${before.map(sqlString).join(', ')}])`))[0]!.n);
  t.equal(dup, 2 * once.posts!, 'before compaction the replay is there twice');

  const s = await compact(ctx, { swapGraceMs: 20, graceMinutes: 15 });
  t.ok(s.hours_compacted >= 2, 'the events hour and the delete hour');
  for (const table of FIREHOSE_TABLES) {
    const files = await listTableFiles(dir, table.name);
    const expected = table.name === 'posts' ? once.posts! - 1 : table.name === 'deletes' ? once.deletes! + 1 : once[table.name]!;
    const n = files.length ? Number((await rows(conn, `SELECT count(*)::BIGINT AS n FROM read_parquet([${files.map(sqlString).join(', ')}])`))[0]!.n) : 0;
    t.equal(n, expected, `${table.name}: one row per fact`);
    if (files.length === 0) continue;
    const glob = await rows(conn, `SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlString(path.join(dir, `**/${table.name}*.parquet`))}, hive_partitioning = true)`);
    t.equal(Number(glob[0]!.n), expected, `${table.name}: the glob agrees`);
    // The compacted file keeps the flush's schema exactly (names and types, in order).
    const schema = await rows(conn, `DESCRIBE SELECT * FROM read_parquet(${sqlString(files[0]!)}, hive_partitioning = false)`);
    t.same(schema.map((c) => `${String(c.column_name)} ${String(c.column_type)}`), table.columns.map((c) => `${c.name} ${c.type === 'JSON' ? 'JSON' : c.type === 'TIMESTAMPTZ' ? 'TIMESTAMP WITH TIME ZONE' : c.type}`), `${table.name}: schema`);
  }
  const left = await rows(conn, `SELECT count(*)::BIGINT AS n FROM read_parquet([${(await listTableFiles(dir, 'posts')).map(sqlString).join(', ')}]) WHERE ${sqlIdent('uri')} = ${sqlString(victimUri)}`);
  t.equal(Number(left[0]!.n), 0, 'the deleted post is physically gone');
});
