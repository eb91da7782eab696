/**
 * The ingest daemon in-process against the real replay server and real Redis: byte-exact writes,
 * cursor, resume after a server-side drop, gap on an expired cursor, failover, drops at the memory
 * limit (private redis-server) and at the stream cap, /healthz and /metrics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { startReplayServer } from '../../local-tools/replay-server/server.js';
import { loadConfig } from '../../shared/config/index.js';
import { IngestDaemon } from '../../shared/ingest/daemon.js';
import { createLogger } from '../../shared/log.js';
import { redisKeys } from '../../shared/redis.js';
import { makeTestEnv, waitFor, type TestEnv } from '../helpers/env.js';
import { freePort, get, metricValue, startPrivateRedis, streamEntries, syntheticEvents, timeOf } from './helpers.js';

interface T {
  teardown(fn: () => unknown): void;
}

const BASE_ENV = {
  INGEST_HTTP_PORT: '0',
  RECONNECT_BASE_MS: '10',
  RECONNECT_MAX_MS: '200',
  CURSOR_SAVE_MS: '100',
  CURSOR_REWIND_S: '1',
  INGEST_STATS_MS: '60000',
};

async function replay(t: T, events: string[], rate: number | 'max' = 'max') {
  const server = await startReplayServer({ events, port: 0, rate, statsIntervalMs: 0 });
  t.teardown(() => server.close());
  return server;
}

/** Starts a daemon in this process; the test must `await daemon.stop()` before its end (teardown is a fallback). */
async function startDaemon(t: T, te: TestEnv, env: Record<string, string>, redisUrl?: string) {
  const cfg = loadConfig({ ...te.env, ...BASE_ENV, ...env, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) });
  const redis = new Redis(cfg.redis.url, { maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  const daemon = new IngestDaemon({ cfg, redis, log: createLogger('ingest', { level: 'silent' }) });
  t.teardown(async () => {
    await daemon.stop();
    redis.disconnect();
  });
  await daemon.start();
  const base = `http://127.0.0.1:${daemon.httpPort}`;
  return { daemon, cfg, redis, base, keys: redisKeys(cfg.redis.prefix) };
}

t.test('writes every event byte for byte, saves the cursor, serves /healthz and /metrics', async (t) => {
  const te = await makeTestEnv(t);
  const events = syntheticEvents(300);
  const server = await replay(t, events);
  const { daemon, base, keys } = await startDaemon(t, te, { JETSTREAM_URL: server.url });
  const last = timeOf(events[events.length - 1]!);
  await waitFor('cursor at the last event', async () => (await te.redis.get(keys.cursor)) === String(last));

  const stored = await streamEntries(te.redis, keys.stream);
  t.same(stored.map((s) => s.e), events, 'exact raw text, in order, once each');

  const health = await get(`${base}/healthz`);
  t.equal(health.status, 200);
  const h = JSON.parse(health.text) as Record<string, unknown>;
  t.equal(h.connected, true);
  t.equal(h.url, server.url);
  t.equal(h.redis, 'ok');
  t.equal(h.cursor, last);
  t.type(h.last_event_age_ms, 'number');

  const m = (await get(`${base}/metrics`)).text;
  const likes = events.filter((e) => e.includes('"collection":"app.bsky.feed.like"')).length;
  const identities = events.filter((e) => e.includes('"kind":"identity"')).length;
  t.equal(metricValue(m, 'ingest_written_total'), 300);
  t.equal(metricValue(m, 'ingest_events_total{kind="commit",collection="app.bsky.feed.like"}'), likes);
  t.equal(metricValue(m, 'ingest_events_total{kind="identity",collection=""}'), identities);
  t.equal(metricValue(m, 'ingest_bytes_total'), events.reduce((n, e) => n + Buffer.byteLength(e), 0));
  t.equal(metricValue(m, 'ingest_stream_length'), 300);
  t.equal(metricValue(m, 'ingest_connected'), 1);
  t.equal(metricValue(m, 'ingest_reconnects_total'), 0);
  t.ok((metricValue(m, 'ingest_redis_write_seconds_count') ?? 0) >= 1);
  t.ok((metricValue(m, 'ingest_lag_seconds') ?? 0) > 0, 'lag = now - time_us of replayed (old) events');
  t.match(m, /process_resident_memory_bytes \d+/);

  await server.close();
  await waitFor('unhealthy once the server is gone', async () => (await get(`${base}/healthz`)).status === 503);
  t.equal((JSON.parse((await get(`${base}/healthz`)).text) as { connected: boolean }).connected, false);
  t.equal((await get(`${base}/nope`)).status, 404);
  await daemon.stop();
});

t.test('malformed lines go to Redis untouched and do not move the cursor', async (t) => {
  const te = await makeTestEnv(t);
  const badUtf8 = Buffer.concat([Buffer.from('{"did":"did:plc:x","time_us":5,"kind":"commit","text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  const lines = [syntheticEvents(1)[0]!, 'garbage{', '{"no_time_us":true}', '{"did":"did:plc:x","time_us":"7"}'].map((l) => Buffer.from(l));
  lines.splice(2, 0, badUtf8);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.teardown(() => new Promise((r) => wss.close(r)));
  await new Promise((r) => wss.once('listening', r));
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    for (const l of lines) ws.send(l, { binary: false });
  });
  const port = (wss.address() as { port: number }).port;
  const { daemon, keys } = await startDaemon(t, te, { JETSTREAM_URL: `ws://127.0.0.1:${port}/subscribe` });
  await waitFor('all lines written', async () => (await te.redis.xlen(keys.stream)) === 5);
  await daemon.stop();
  const raw = await te.redis.xrangeBuffer(keys.stream, '-', '+');
  t.same(raw.map(([, f]) => f[1]!.toString('hex')), lines.map((l) => l.toString('hex')), 'bytes exactly as received, invalid UTF-8 included');
  t.equal(connections, 1, 'invalid UTF-8 does not break the connection');
  t.equal(await te.redis.get(keys.cursor), '5', 'cursor = last time_us that parsed');
});

t.test('a connection dropped by the server is resumed from the cursor without loss', async (t) => {
  const te = await makeTestEnv(t);
  const events = syntheticEvents(3000);
  const server = await replay(t, events, 3000);
  const { daemon, keys, base } = await startDaemon(t, te, { JETSTREAM_URL: server.url });
  await waitFor('some events written', async () => (await te.redis.xlen(keys.stream)) >= 1200);
  server.dropConnections();
  const want = new Set(events.map(timeOf));
  await waitFor('every event present', async () => {
    const got = new Set((await streamEntries(te.redis, keys.stream)).map((s) => s.timeUs));
    return got.size === want.size && [...want].every((x) => got.has(x));
  }, 20_000);
  const all = await streamEntries(te.redis, keys.stream);
  t.ok(all.length > events.length, `duplicates from the rewind are expected (${all.length} entries)`);
  t.equal(metricValue((await get(`${base}/metrics`)).text, 'ingest_reconnects_total'), 1);
  t.equal(await te.redis.zcard(keys.gaps), 0, 'no gap');
  await daemon.stop();
  t.equal(await te.redis.get(keys.cursor), String(timeOf(events[events.length - 1]!)));
});

t.test('a cursor older than the server\'s data is recorded as a gap with exact bounds', async (t) => {
  const te = await makeTestEnv(t);
  const events = syntheticEvents(50);
  const server = await replay(t, events);
  const keys = redisKeys(te.prefix);
  const first = timeOf(events[0]!);
  const saved = first - 3_600_000_000; // an hour before the oldest event the server still has
  await te.redis.set(keys.cursor, String(saved));
  const { daemon } = await startDaemon(t, te, { JETSTREAM_URL: server.url });
  await waitFor('gap recorded', async () => (await te.redis.zcard(keys.gaps)) === 1);
  const [member, score] = await te.redis.zrange(keys.gaps, '0', '-1', 'WITHSCORES');
  const gap = JSON.parse(member!) as Record<string, unknown>;
  t.equal(Number(score), saved);
  t.match(gap, { start_us: saved, end_us: first, url: server.url, reason: 'cursor_expired' });
  t.match(gap.detected_at, /^\d{4}-\d\d-\d\dT/);
  await waitFor('all written', async () => (await te.redis.xlen(keys.stream)) === 50);
  await daemon.stop();
});

t.test('fails over to the second URL when the first refuses connections', async (t) => {
  const te = await makeTestEnv(t);
  const events = syntheticEvents(100);
  const server = await replay(t, events);
  const dead = `ws://127.0.0.1:${await freePort()}/subscribe`;
  const { daemon, keys, base } = await startDaemon(t, te, { JETSTREAM_URL: `${dead},${server.url}` });
  await waitFor('all written', async () => (await te.redis.xlen(keys.stream)) === 100);
  const h = JSON.parse((await get(`${base}/healthz`)).text) as { url: string; connected: boolean };
  t.same(h, { ...h, url: server.url, connected: true });
  await daemon.stop();
});

t.test('fails over when the first URL answers the upgrade with an HTTP error', async (t) => {
  const te = await makeTestEnv(t);
  const server = await replay(t, syntheticEvents(100));
  const wrong = server.url.replace('/subscribe', '/nope'); // the replay server answers 404
  const { daemon, keys, base } = await startDaemon(t, te, { JETSTREAM_URL: `${wrong},${server.url}` });
  await waitFor('all written', async () => (await te.redis.xlen(keys.stream)) === 100);
  t.equal((JSON.parse((await get(`${base}/healthz`)).text) as { url: string }).url, server.url);
  await daemon.stop();
});

t.test('a silent socket (no events, no pongs) is treated as dead and replaced', async (t) => {
  const te = await makeTestEnv(t);
  const silent = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
  t.teardown(() => new Promise((r) => silent.close(r)));
  await new Promise((r) => silent.once('listening', r));
  let accepted = 0;
  silent.on('connection', () => accepted++);
  const server = await replay(t, syntheticEvents(20));
  const silentUrl = `ws://127.0.0.1:${(silent.address() as { port: number }).port}/subscribe`;
  const { daemon, keys } = await startDaemon(t, te, { JETSTREAM_URL: `${silentUrl},${server.url}`, SILENCE_TIMEOUT_MS: '1000' });
  await waitFor('all written after giving up on the silent server', async () => (await te.redis.xlen(keys.stream)) === 20, 10_000);
  t.equal(accepted, 1);
  await daemon.stop();
});

t.test('Redis at its memory limit: drops are counted, the daemon carries on and recovers', async (t) => {
  const te = await makeTestEnv(t);
  const priv = await startPrivateRedis(t, ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
  const events = syntheticEvents(4000);
  const server = await replay(t, events);
  const { daemon, keys, base } = await startDaemon(t, te, { JETSTREAM_URL: server.url, INGEST_PIPELINE_MAX: '100' }, priv.url);
  const dropped = async () => metricValue((await get(`${base}/metrics`)).text, 'ingest_drops_total{reason="redis_oom"}') ?? 0;
  await waitFor('every event written or dropped', async () => (await priv.redis.xlen(keys.stream)) + (await dropped()) === 4000, 20_000);
  const n = await dropped();
  t.ok(n > 0 && n < 4000, `${n} dropped for lack of memory`);
  t.equal((await get(`${base}/healthz`)).status, 200, 'still connected and healthy');

  // Memory is freed (the flush caught up): the counts reach Redis (saved right after the cursor), and
  // after a reconnect everything from the cursor on is written again. Dropped events before the cursor
  // stay lost (counted, and recorded as a gap): losing under overload is allowed, silently is not.
  await priv.redis.config('SET', 'maxmemory', '0');
  await waitFor('drops hash saved', async () => Number(await priv.redis.hget(keys.drops, 'redis_oom')) === n);
  const cursor = Number(await priv.redis.get(keys.cursor));
  server.dropConnections();
  const lastUs = String(timeOf(events[events.length - 1]!));
  await waitFor('cursor at the last event after the reconnect', async () => (await priv.redis.get(keys.cursor)) === lastUs, 20_000);
  const got = new Set((await streamEntries(priv.redis, keys.stream)).map((s) => s.timeUs));
  t.ok(events.map(timeOf).filter((x) => x >= cursor).every((x) => got.has(x)), 'every event from the cursor on is in the stream');
  await daemon.stop();
  const gaps = (await priv.redis.zrange(keys.gaps, '0', '-1')).map((g) => JSON.parse(g) as { reason: string; start_us: number; end_us: number });
  t.ok(gaps.length >= 1 && gaps.every((g) => g.reason === 'redis_oom' && g.start_us <= g.end_us), 'the dropped range is recorded as a gap');
});

t.test('Redis going away mid-stream: writes are retried, health says so, nothing is lost', async (t) => {
  const te = await makeTestEnv(t);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ingest-redis-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const priv = await startPrivateRedis(t, ['--appendonly', 'yes', '--appendfsync', 'always'], dir);
  const events = syntheticEvents(3000);
  const server = await replay(t, events, 3000);
  const { daemon, keys, base } = await startDaemon(t, te, { JETSTREAM_URL: server.url, INGEST_PIPELINE_MAX: '100' }, priv.url);
  await waitFor('writing', async () => (await priv.redis.xlen(keys.stream)) >= 500);
  await priv.stop();
  await waitFor('unhealthy while Redis is down', async () => {
    const h = await get(`${base}/healthz`);
    return h.status === 503 && (JSON.parse(h.text) as { redis: string }).redis === 'error';
  });
  await priv.start();
  const lastUs = String(timeOf(events[events.length - 1]!));
  await waitFor('cursor at the last event', async () => (await priv.redis.get(keys.cursor)) === lastUs, 20_000);
  const got = new Set((await streamEntries(priv.redis, keys.stream)).map((s) => s.timeUs));
  t.ok(events.every((e) => got.has(timeOf(e))), 'every event is in the stream');
  t.equal((await get(`${base}/healthz`)).status, 200);
  t.ok((metricValue((await get(`${base}/metrics`)).text, 'ingest_redis_write_errors_total') ?? 0) >= 1, 'failed writes counted');
  await daemon.stop();
});

t.test('back-pressure: while Redis stalls, reading pauses and the queue stays bounded', async (t) => {
  const te = await makeTestEnv(t);
  const priv = await startPrivateRedis(t, []);
  const events = syntheticEvents(20_000);
  const server = await replay(t, events);
  const { daemon, keys, base } = await startDaemon(t, te, { JETSTREAM_URL: server.url, INGEST_PIPELINE_MAX: '100' }, priv.url);
  await waitFor('writing', async () => (await priv.redis.xlen(keys.stream)) > 0);
  await priv.redis.call('CLIENT', 'PAUSE', '2000', 'WRITE');
  const metrics = async () => (await get(`${base}/metrics`)).text;
  const lenBefore = await priv.redis.xlen(keys.stream);
  let maxPending = 0;
  let pausedSeen = false;
  for (let i = 0; i < 15; i++) {
    const m = await metrics();
    maxPending = Math.max(maxPending, metricValue(m, 'ingest_pending_events') ?? 0);
    pausedSeen ||= metricValue(m, 'ingest_socket_paused') === 1;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(await priv.redis.xlen(keys.stream), lenBefore, 'Redis took no writes meanwhile');
  t.ok(pausedSeen, 'reading paused');
  t.ok(maxPending < 2000, `queue bounded (at most ${maxPending} events; pauses at 400, resumes at 200)`);
  t.ok(server.stats().sent < events.length, `the server holds the rest (${server.stats().sent} of ${events.length} sent)`);
  await waitFor('all written once Redis is back', async () => (await priv.redis.xlen(keys.stream)) === events.length, 30_000);
  t.equal(metricValue(await metrics(), 'ingest_socket_paused'), 0);
  await daemon.stop();
});

t.test('stream at its cap: new events are dropped (stream_full), buffered ones are never trimmed', async (t) => {
  const te = await makeTestEnv(t);
  const events = syntheticEvents(1500);
  const server = await replay(t, events);
  const { daemon, keys, base } = await startDaemon(t, te, { JETSTREAM_URL: server.url, STREAM_MAXLEN: '1000', CURSOR_REWIND_S: '0' });
  await waitFor('500 dropped', async () => metricValue((await get(`${base}/metrics`)).text, 'ingest_drops_total{reason="stream_full"}') === 500);
  const kept = await streamEntries(te.redis, keys.stream);
  t.same(kept.map((k) => k.e), events.slice(0, 1000), 'the oldest 1000, untouched');
  await waitFor('drops hash', async () => (await te.redis.hget(keys.drops, 'stream_full')) === '500');
  t.equal(await te.redis.get(keys.cursor), String(timeOf(events[999]!)));

  // The flush trims what it acknowledged; a reconnect re-fetches from the cursor and writing resumes.
  await te.redis.xtrim(keys.stream, 'MAXLEN', 0);
  server.dropConnections();
  await waitFor('the rest written', async () => (await te.redis.get(keys.cursor)) === String(timeOf(events[1499]!)));
  const after = await streamEntries(te.redis, keys.stream);
  t.same(after.map((a) => a.e), events.slice(999), 'from the cursor (inclusive) to the end');
  await daemon.stop();
  const gaps = (await te.redis.zrange(keys.gaps, '0', '-1')).map((g) => JSON.parse(g) as Record<string, unknown>);
  t.match(gaps, [{ reason: 'stream_full', start_us: timeOf(events[1000]!), end_us: timeOf(events[1499]!) }]);
});
