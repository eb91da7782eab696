/**
 * The daemon as a real process (`node --import tsx ingest-daemon/main.ts`): SIGKILL mid-stream and a
 * restart lose nothing sent after the saved cursor; SIGTERM writes what was received, saves the cursor
 * (= last time_us written) and exits 0.
 */
import t from 'tap';
import { startReplayServer } from '../../local-tools/replay-server/server.js';
import { redisKeys } from '../../shared/redis.js';
import { makeTestEnv, waitFor } from '../helpers/env.js';
import { get, spawnDaemon, streamEntries, syntheticEvents, timeOf } from './helpers.js';

const ENV = { CURSOR_SAVE_MS: '100', CURSOR_REWIND_S: '1', RECONNECT_BASE_MS: '10', INGEST_STATS_MS: '60000' };

t.test('SIGKILL mid-stream, restart: every event after the saved cursor arrives; then SIGTERM saves the cursor and exits 0', async (t) => {
  const te = await makeTestEnv(t);
  const keys = redisKeys(te.prefix);
  const events = syntheticEvents(4000);
  const server = await startReplayServer({ events, port: 0, rate: 2000, statsIntervalMs: 0 });
  t.teardown(() => server.close());
  const env = { ...te.env, ...ENV, JETSTREAM_URL: server.url };

  const first = spawnDaemon(t, env);
  await waitFor('first daemon writing, cursor saved', async () => (await te.redis.xlen(keys.stream)) >= 1000 && (await te.redis.get(keys.cursor)) !== null, 30_000);
  first.proc.kill('SIGKILL');
  t.same(await first.exited, { code: null, signal: 'SIGKILL' });
  const cursorAtKill = Number(await te.redis.get(keys.cursor));
  const lenAtKill = await te.redis.xlen(keys.stream);
  t.ok(lenAtKill < events.length, `killed mid-stream (${lenAtKill} of ${events.length} written)`);

  const second = spawnDaemon(t, env);
  const want = events.map(timeOf);
  const lastUs = String(want[want.length - 1]);
  await waitFor('second daemon reached the end', async () => (await te.redis.get(keys.cursor)) === lastUs, 30_000);
  const got = new Set((await streamEntries(te.redis, keys.stream)).map((s) => s.timeUs));
  t.ok(want.filter((x) => x >= cursorAtKill).every((x) => got.has(x)), 'every event at or after the saved cursor is there');
  t.same([...got].sort((a, b) => a - b), want, 'the stream holds exactly the source events (duplicates aside)');

  const port = await second.port();
  t.equal((await get(`http://127.0.0.1:${port}/healthz`)).status, 200);
  second.proc.kill('SIGTERM');
  t.same(await second.exited, { code: 0, signal: null });
  const entries = await streamEntries(te.redis, keys.stream);
  t.equal(await te.redis.get(keys.cursor), String(entries[entries.length - 1]!.timeUs), 'cursor = last time_us written');
  t.ok(second.logs.some((l) => l.includes('"stopped"')), 'logged its shutdown');
});

t.test('SIGTERM mid-stream: what was received is written, the cursor is its last time_us, exit 0', async (t) => {
  const te = await makeTestEnv(t);
  const keys = redisKeys(te.prefix);
  const events = syntheticEvents(6000);
  const server = await startReplayServer({ events, port: 0, rate: 2000, statsIntervalMs: 0 });
  t.teardown(() => server.close());
  const d = spawnDaemon(t, { ...te.env, ...ENV, JETSTREAM_URL: server.url });
  await waitFor('writing', async () => (await te.redis.xlen(keys.stream)) >= 500, 30_000);
  d.proc.kill('SIGTERM');
  t.same(await d.exited, { code: 0, signal: null });
  const entries = await streamEntries(te.redis, keys.stream);
  t.ok(entries.length < events.length, `stopped mid-stream after ${entries.length} events`);
  t.same(entries.map((e) => e.e), events.slice(0, entries.length), 'a prefix of the source, in order, no hole');
  t.equal(await te.redis.get(keys.cursor), String(entries[entries.length - 1]!.timeUs));
});
