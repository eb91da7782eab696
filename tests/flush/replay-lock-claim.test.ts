/** Replayed events, the run lock, and pending entries of a dead consumer. */
import tap from 'tap';
import { loadConfig } from '../../shared/config/index.js';
import { createContext } from '../../shared/context.js';
import { acquireLock, runFlush } from '../../shared/flush/index.js';
import { createLogger } from '../../shared/log.js';
import { registry } from '../../shared/metrics.js';
import { waitFor } from '../helpers/env.js';
import { fixtureLines, makeFlushEnv, pendingCount, readTable, xaddLines } from './helpers.js';

const ONE_EACH = { posts: 1, likes: 1, reposts: 1, follows: 1, blocks: 1, profiles: 1, records: 1, deletes: 1, identities: 1, accounts: 1 };

tap.test('replays inside one batch are written once', async (t) => {
  const env = await makeFlushEnv(t);
  const golden = fixtureLines('jetstream-golden-10.jsonl');
  await xaddLines(env.redis, env.ctx.keys.stream, [...golden, ...golden.slice().reverse(), golden[1]!]);
  const s = await runFlush(env.ctx);
  t.equal(s.events_read, 21);
  t.equal(s.duplicates_dropped, 11);
  t.same(s.rows, ONE_EACH);
  const posts = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'posts', 'uri');
  t.equal(posts.length, 1);
});

tap.test('replays across batches land in two batch files (compaction / query-time dedupe removes them)', async (t) => {
  const env = await makeFlushEnv(t);
  const golden = fixtureLines('jetstream-golden-10.jsonl');
  await xaddLines(env.redis, env.ctx.keys.stream, golden);
  t.same((await runFlush(env.ctx)).rows, ONE_EACH);
  await xaddLines(env.redis, env.ctx.keys.stream, golden);
  const s2 = await runFlush(env.ctx);
  t.same(s2.rows, ONE_EACH, 'the flush alone cannot see the earlier batch');
  const posts = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'posts', 'uri, rev');
  t.equal(posts.length, 2, 'two files hold the same post');
  const distinct = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'posts', 'count(DISTINCT (uri, rev)) AS n');
  t.same(distinct, [{ n: '1' }], 'the dedupe key (uri, rev) identifies the replay');
});

tap.test('the lock keeps two runs from overlapping and only its owner releases it', async (t) => {
  const env = await makeFlushEnv(t);
  const key = env.ctx.keys.flushLock;
  const a = await acquireLock(env.redis, key, 5000);
  t.ok(a, 'first owner takes it');
  t.equal(await acquireLock(env.redis, key, 5000), undefined, 'second caller is refused');
  await env.redis.set(key, 'someone-else');
  t.equal(await a!.extend(), false, 'extension notices the lock is lost');
  t.equal(await a!.release(), false, 'a former owner does not delete another owner\'s lock');
  t.equal(await env.redis.get(key), 'someone-else');
  await env.redis.del(key);

  await xaddLines(env.redis, env.ctx.keys.stream, fixtureLines('jetstream-real-152.jsonl'));
  // A second context: its own Redis client and DuckDB, same prefix, as a second pod would have.
  const cfg2 = loadConfig({ ...env.env, FLUSH_CONSUMER: 'other-pod' });
  const ctx2 = await createContext(cfg2, 'test:flush2', { log: createLogger('t', { level: 'silent' }) });
  t.teardown(() => ctx2.destroy());
  const before = (await registry.getSingleMetricAsString('bsky_flush_lock_contention_total')).match(/ (\d+)$/m)?.[1];
  const [r1, r2] = await Promise.all([runFlush(env.ctx), runFlush(ctx2)]);
  t.same([r1.status, r2.status].sort(), ['locked', 'ok']);
  const ok = r1.status === 'ok' ? r1 : r2;
  t.equal(ok.events_read, 152);
  const likes = await readTable(env.duckdb, env.cfg.storage.parquetDir, 'likes', 'count(*) AS n');
  t.same(likes, [{ n: '105' }], 'rows written once');
  const after = (await registry.getSingleMetricAsString('bsky_flush_lock_contention_total')).match(/ (\d+)$/m)?.[1];
  t.equal(Number(after) - Number(before ?? 0), 1, 'contention counted');
  t.equal(await env.redis.exists(key), 0, 'lock released after the run');
});

tap.test('pending entries of a dead consumer are claimed once idle long enough', async (t) => {
  const env = await makeFlushEnv(t, { FLUSH_CLAIM_IDLE_MS: '1000' });
  const { stream, flushGroup } = env.ctx.keys;
  await env.redis.xgroup('CREATE', stream, flushGroup, '0', 'MKSTREAM');
  const golden = fixtureLines('jetstream-golden-10.jsonl');
  await xaddLines(env.redis, stream, golden);
  // A consumer that read the entries and died before acknowledging them.
  await env.redis.xreadgroup('GROUP', flushGroup, 'dead-pod', 'COUNT', 100, 'STREAMS', stream, '>');
  t.equal(await pendingCount(env.redis, stream, flushGroup), 10);

  const early = await runFlush(env.ctx);
  t.equal(early.events_read, 0, 'not claimed while the owner may still be working');
  t.equal(await pendingCount(env.redis, stream, flushGroup), 10);

  const late = await waitFor('the dead consumer\'s entries to be claimed', async () => {
    const s = await runFlush(env.ctx);
    return s.events_read > 0 ? s : undefined;
  }, 10_000, 100);
  t.equal(late.claimed, 10);
  t.same(late.rows, ONE_EACH);
  t.equal(await pendingCount(env.redis, stream, flushGroup), 0);
  t.equal(await env.redis.xlen(stream), 0);
  const metrics = await registry.getSingleMetricAsString('bsky_flush_rows_total');
  t.match(metrics, /bsky_flush_rows_total\{table="posts"\} \d+/);
});
