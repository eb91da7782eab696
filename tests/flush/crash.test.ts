/**
 * Crash safety: the flush is SIGKILLed (FLUSH_CRASH_AT, a test-only knob) before writing, between two
 * files, and after renaming every file but before XACK; a normal re-run must then leave exactly one row
 * per input event and an empty stream.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import tap from 'tap';
import { runFlush } from '../../shared/flush/index.js';
import { waitFor } from '../helpers/env.js';
import { ROOT, fixtureLines, listFiles, makeFlushEnv, pendingCount, readTable, xaddLines } from './helpers.js';

const EXPECTED = { posts: 17, likes: 105, reposts: 15, follows: 6, blocks: 1, profiles: 0, records: 2, deletes: 4, identities: 1, accounts: 1 };

function runChild(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'functions/flush/run-once.ts')], {
    cwd: ROOT,
    // Line files of the killed child land in the test's own folder (removed at teardown).
    env: { PATH: process.env.PATH ?? '', TMPDIR: env.DATA_DIR ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

for (const point of ['before_write', 'between_files', 'after_rename_before_ack'] as const) {
  tap.test(`SIGKILL ${point}, then a re-run: one row per event, nothing pending`, async (t) => {
    const env = await makeFlushEnv(t, { FLUSH_CONSUMER: 'crashy', FLUSH_LOCK_TTL_MS: '1000' });
    const { stream, flushGroup } = env.ctx.keys;
    const lines = fixtureLines('jetstream-real-152.jsonl');
    await xaddLines(env.redis, stream, [...lines, 'not json']);

    const crashed = await runChild({ ...env.env, FLUSH_CRASH_AT: point });
    t.equal(crashed.signal, 'SIGKILL', `child died at ${point}${crashed.signal ? '' : `: ${crashed.stderr}`}`);
    const parquetDir = env.cfg.storage.parquetDir;
    const left = (await listFiles(parquetDir)).filter((f) => f.endsWith('.parquet'));
    const expectedLeft = { before_write: 0, between_files: 1, after_rename_before_ack: 9 }[point];
    t.equal(left.length, expectedLeft, 'files in place when the process died');
    t.equal(await pendingCount(env.redis, stream, flushGroup), 153, 'nothing acknowledged');
    t.equal(await env.redis.xlen(stream), 153, 'nothing deleted');

    const s = await waitFor('the crashed run\'s lock to expire', async () => {
      const r = await runFlush(env.ctx);
      return r.status === 'ok' ? r : undefined;
    }, 10_000, 100);
    t.equal(s.events_read, 153);
    t.same(s.rows, EXPECTED);
    t.equal(s.quarantined, 1);
    const files = await listFiles(parquetDir);
    t.equal(files.length, 9, 'exactly one file per table, no temporary leftovers');
    for (const f of left) t.ok(files.includes(f), `${f} was rewritten under the same name`);
    for (const [table, n] of Object.entries(EXPECTED)) {
      const rows = await readTable(env.duckdb, parquetDir, table, 'count(*) AS n');
      t.equal(Number(rows[0]?.n ?? 0), n, `${table}: ${n} rows`);
    }
    const uris = await readTable(env.duckdb, parquetDir, 'likes', 'count(DISTINCT uri) AS n');
    t.same(uris, [{ n: '105' }]);
    t.equal(await pendingCount(env.redis, stream, flushGroup), 0);
    t.equal(await env.redis.xlen(stream), 0);
  });
}

tap.test('SIGKILL after the first slice\'s files are renamed, then a re-run: same slices, same names', async (t) => {
  const env = await makeFlushEnv(t, { FLUSH_CONSUMER: 'crashy', FLUSH_LOCK_TTL_MS: '1000', FLUSH_SLICE_SIZE: '60' });
  const { stream, flushGroup } = env.ctx.keys;
  await xaddLines(env.redis, stream, fixtureLines('jetstream-real-152.jsonl'));
  const crashed = await runChild({ ...env.env, FLUSH_CRASH_AT: 'after_rename_before_ack' });
  t.equal(crashed.signal, 'SIGKILL');
  const parquetDir = env.cfg.storage.parquetDir;
  const left = (await listFiles(parquetDir)).filter((f) => f.endsWith('.parquet'));
  t.ok(left.length > 0, 'the first slice\'s files are in place');
  const s = await waitFor('the lock to expire', async () => {
    const r = await runFlush(env.ctx);
    return r.status === 'ok' ? r : undefined;
  }, 10_000, 100);
  t.match(s, { batches: 3, events_read: 152 });
  t.same(s.rows, EXPECTED);
  for (const f of left) t.ok(s.files.includes(f), `${f} rewritten under the same name`);
  t.equal((await listFiles(parquetDir)).length, s.files.length, 'no other files');
  for (const [table, n] of Object.entries(EXPECTED)) {
    const rows = await readTable(env.duckdb, parquetDir, table, 'count(*) AS n');
    t.equal(Number(rows[0]?.n ?? 0), n, `${table}: ${n} rows`);
  }
  t.equal(await pendingCount(env.redis, stream, flushGroup), 0);
});
