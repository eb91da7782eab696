/**
 * `npm run bench:ingest [-- --json] [--events N] [--lag-seconds S] [--pipeline-max N] [--tsx]`
 *
 * Replay server (max rate) → ingest daemon (a child process, as deployed) → Redis, on the Redis of
 * REDIS_URL under a throwaway key prefix. Prints:
 *  - events/s written by the daemon (from the first and last stream entry ids, i.e. Redis's clock),
 *    beside redis-benchmark's XADD rate on the same Redis with a realistic payload (the ceiling);
 *  - the daemon's peak RSS (VmHWM) over the whole run;
 *  - end-to-end lag at 2,000 events/s: a paced local server stamps each event's time_us with the
 *    wall clock when it sends it (as Jetstream does), and lag = the stream entry id's millisecond
 *    (when Redis appended it) − time_us: p50 / p95 / max;
 *  - the cost of reading time_us with scanEvent versus JSON.parse per event.
 * Goals (issue 3): ≥ 50,000 events/s, RSS ≤ 150 MB, lag ≤ 1 s at 2,000 events/s.
 * With --json the last line is {"events_per_s","redis_xadd_per_s","rss_mb","lag_ms_at_2000"}.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { startReplayServer } from '../local-tools/replay-server/server.js';
import { loadConfig } from '../shared/config/index.js';
import { scanEvent } from '../shared/ingest/event-scan.js';
import { redisKeys } from '../shared/redis.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const argNum = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = argNum('--events', 300_000);
const LAG_SECONDS = argNum('--lag-seconds', 5);
const LAG_RATE = 2000;
const say = (s: string) => process.stdout.write(s + '\n');

const cfg = loadConfig();
const prefix = `bench:ingest:${randomBytes(4).toString('hex')}:`;
const keys = redisKeys(prefix);
const redis = new Redis(cfg.redis.url, { maxRetriesPerRequest: 2 });

async function loadEvents(n: number): Promise<{ lines: string[]; source: string }> {
  try {
    const gen = (await import('../local-tools/generator/generator.js')) as {
      generateEvents(o: { events: number; seed?: string; rate?: number }): Iterable<string>;
    };
    return { lines: [...gen.generateEvents({ events: n, seed: 'bench-ingest', rate: 400 })], source: 'local-tools/generator' };
  } catch {
    const real = readFileSync(path.join(ROOT, 'tests/ingest/fixtures/jetstream-real-152.jsonl'), 'utf8').split('\n').filter(Boolean);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(real[i % real.length]!.replace(/"time_us":\d+/, `"time_us":${1_783_175_000_000_000 + i * 1000}`));
    return { lines, source: 'fixtures (cycled)' };
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Peak and current RSS of a process, in MB, from /proc. */
function rssOf(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

function spawnDaemon(url: string, extra: Record<string, string> = {}): { child: ChildProcess; exited: Promise<number | null> } {
  // e.g. BENCH_DAEMON_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the daemon under load
  const nodeArgs = (process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry = daemonEntry ? [daemonEntry] : ['--import', 'tsx', 'ingest-daemon/main.ts'];
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      REDIS_URL: cfg.redis.url,
      REDIS_PREFIX: prefix,
      JETSTREAM_URL: url,
      STREAM_MAXLEN: String(N * 2 + 100_000),
      INGEST_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      ...(args.includes('--pipeline-max') ? { INGEST_PIPELINE_MAX: String(argNum('--pipeline-max', 1000)) } : {}),
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

/**
 * The daemon as deployed is plain JavaScript (tsc/esbuild output) run by node; `--tsx` runs it through
 * the tsx loader instead, which alone adds ~30 MB of RSS (a loader thread with its own V8 heap).
 */
function buildDaemon(): string | undefined {
  if (args.includes('--tsx')) return undefined;
  const out = path.join(ROOT, 'node_modules/.cache/ingest-bench/daemon.mjs');
  const esbuild = path.join(ROOT, 'node_modules/.bin/esbuild');
  const r = spawnSync(esbuild, ['ingest-daemon/main.ts', '--bundle', '--platform=node', '--format=esm', '--target=node20', '--packages=external', `--outfile=${out}`, '--log-level=error'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    say(`(could not bundle the daemon with esbuild, running it through tsx: ${(r.stderr || String(r.error)).trim()})`);
    return undefined;
  }
  return out;
}
const daemonEntry = buildDaemon();

const idMs = (id: string) => Number(id.split('-')[0]);

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/** Redis's own CPU seconds so far (INFO cpu). */
async function redisCpu(): Promise<number> {
  const info = await redis.info('cpu');
  const v = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return v('used_cpu_user') + v('used_cpu_sys');
}

interface CpuWindow {
  /** Events written between the first poll that saw some and the end. */
  events: number;
  daemonCpuS: number;
  redisCpuS: number;
}

/**
 * Polls until the stream holds `target` entries. Also measures the CPU the daemon and Redis spent
 * between the first poll that saw events and the end: CPU per event does not depend on how many
 * other processes share the machine, unlike events/s.
 */
async function waitForLen(target: number, timeoutMs: number, onTick: () => void, child: ChildProcess): Promise<{ done: boolean; cpu: CpuWindow }> {
  const deadline = Date.now() + timeoutMs;
  let start: { len: number; daemon: number; redis: number } | undefined;
  const cpuWindow = async (len: number): Promise<CpuWindow> => ({
    events: start ? len - start.len : 0,
    daemonCpuS: start ? cpuOf(child.pid!) - start.daemon : Number.NaN,
    redisCpuS: start ? (await redisCpu()) - start.redis : Number.NaN,
  });
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    onTick();
    const len = await redis.xlen(keys.stream);
    if (!start && len > 0) start = { len, daemon: cpuOf(child.pid!), redis: await redisCpu() };
    if (len >= target) return { done: true, cpu: await cpuWindow(len) };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { done: false, cpu: await cpuWindow(await redis.xlen(keys.stream)) };
}

function scanCost(lines: string[]): { scanNs: number; parseNs: number } {
  const bufs = lines.slice(0, 20_000).map((l) => Buffer.from(l));
  const time = (f: (b: Buffer) => unknown) => {
    for (const b of bufs) f(b); // warm-up
    const t0 = process.hrtime.bigint();
    let sink = 0;
    for (let r = 0; r < 5; r++) for (const b of bufs) sink += f(b) ? 1 : 0;
    if (sink < 0) say('');
    return Number(process.hrtime.bigint() - t0) / (5 * bufs.length);
  };
  return {
    scanNs: time((b) => scanEvent(b).timeUs),
    parseNs: time((b) => (JSON.parse(b.toString('utf8')) as { time_us: number }).time_us),
  };
}

function redisBenchmark(payload: string): number {
  const u = new URL(cfg.redis.url);
  const a = ['-h', u.hostname, '-p', u.port || '6379', '-n', '200000', '-P', '100', '-q'];
  if (u.password) a.push('-a', decodeURIComponent(u.password));
  const r = spawnSync('redis-benchmark', [...a, 'XADD', `${prefix}bench`, '*', 'e', payload], { encoding: 'utf8' });
  const m = /([\d.]+) requests per second/.exec((r.stdout ?? '') + (r.stderr ?? ''));
  return m ? Number(m[1]) : Number.NaN;
}

/** A Jetstream-like server that sends `rate` events/s, each stamped with the wall clock at sending. */
async function pacedServer(templates: string[], rate: number, seconds: number) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  let sent = 0;
  const total = rate * seconds;
  wss.on('connection', (ws) => {
    const start = performance.now();
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const nowUs = Date.now() * 1000;
        ws.send(templates[sent % templates.length]!.replace(/"time_us":\d+/, `"time_us":${nowUs}`));
        sent++;
      }
      if (sent >= total) clearInterval(timer);
    }, 5);
    ws.on('close', () => clearInterval(timer));
  });
  const port = (wss.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}/subscribe`, total, close: () => new Promise<void>((r) => wss.close(() => r())) };
}

/** Events/s a do-nothing websocket client receives from `url` (a child process, like the daemon). */
async function bareClientRate(url: string, n: number): Promise<number> {
  const code = `import WebSocket from 'ws';
const [url, n] = [process.argv[1], Number(process.argv[2])];
const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
let got = 0, t0 = 0;
ws.on('message', () => {
  if (got === 0) t0 = performance.now();
  if (++got === n) { process.stdout.write(String(Math.round((n - 1) / ((performance.now() - t0) / 1000)))); process.exit(0); }
});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, url, String(n)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.on('exit', r));
  return Number(out);
}

async function cleanup(): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.unlink(...found);
  } while (cursor !== '0');
}

let bareRate = Number.NaN;
let cpuPerEvent = { daemon_us: Number.NaN, redis_us: Number.NaN };

async function main(): Promise<void> {
  const { lines, source } = await loadEvents(N);
  const bytes = lines.reduce((n, l) => n + l.length, 0);
  say(`ingest bench: ${N} events from ${source}, average ${Math.round(bytes / N)} bytes; redis ${cfg.redis.url}, prefix ${prefix}`);
  say(`daemon run as: node ${daemonEntry ? path.relative(ROOT, daemonEntry) + ' (esbuild bundle of ingest-daemon/main.ts)' : '--import tsx ingest-daemon/main.ts'}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);

  const { scanNs, parseNs } = scanCost(lines);
  say(`time_us extraction: scanEvent ${scanNs.toFixed(0)} ns/event, JSON.parse ${parseNs.toFixed(0)} ns/event (${(parseNs / scanNs).toFixed(1)}x)`);

  // 0. Upstream ceiling: the same replay server → a bare websocket client process that only counts.
  const server = await startReplayServer({ events: lines, port: 0, rate: 'max', statsIntervalMs: 0 });
  bareRate = await bareClientRate(server.url, N);
  say(`replay server → bare ws client (counting only): ${bareRate} events/s (the upstream ceiling here)`);

  // 1. Throughput: replay server at max rate → daemon → Redis.
  let peak = 0;
  const d = spawnDaemon(server.url);
  const sample = () => {
    const r = rssOf(d.child.pid!);
    peak = Math.max(peak, r.hwm, r.rss);
  };
  const { done, cpu } = await waitForLen(N, 300_000, sample, d.child);
  sample();
  d.child.kill('SIGTERM');
  const code = await d.exited;
  await server.close();
  const [first] = await redis.xrange(keys.stream, '-', '+', 'COUNT', 1);
  const [last] = await redis.xrevrange(keys.stream, '+', '-', 'COUNT', 1);
  const len = await redis.xlen(keys.stream);
  const spanMs = first && last ? Math.max(1, idMs(last[0]) - idMs(first[0])) : Number.NaN;
  const eventsPerS = Math.round((len / spanMs) * 1000);
  say(`daemon: ${len}/${N} events written in ${spanMs} ms = ${eventsPerS} events/s${done ? '' : ' (TIMED OUT)'}; exit code on SIGTERM ${code}`);
  const daemonUs = (cpu.daemonCpuS * 1e6) / cpu.events;
  const redisUs = (cpu.redisCpuS * 1e6) / cpu.events;
  say(
    `CPU per event (load-independent, over ${cpu.events} events): daemon ${daemonUs.toFixed(1)} µs → one core would carry ${Math.round(1e6 / daemonUs)} events/s; ` +
      `Redis ${redisUs.toFixed(1)} µs → ${Math.round(1e6 / redisUs)} events/s`,
  );
  cpuPerEvent = { daemon_us: Math.round(daemonUs * 10) / 10, redis_us: Math.round(redisUs * 10) / 10 };
  await redis.unlink(keys.stream);

  // 2. Ceiling: redis-benchmark XADD with a realistic payload on the same Redis.
  const payload = lines.find((l) => l.length >= 550 && l.length <= 700) ?? lines[0]!;
  const xaddPerS = Math.round(redisBenchmark(payload));
  await redis.unlink(`${prefix}bench`);
  say(`redis-benchmark XADD (-P 100, ${payload.length}-byte payload): ${xaddPerS} requests/s  → daemon at ${((eventsPerS / xaddPerS) * 100).toFixed(0)}% of it`);

  // 3. Lag at 2,000 events/s (a fresh start: no cursor from the throughput run).
  await redis.unlink(keys.cursor, keys.gaps);
  const paced = await pacedServer(lines.slice(0, 10_000), LAG_RATE, LAG_SECONDS);
  const d2 = spawnDaemon(paced.url);
  const sample2 = () => {
    const r = rssOf(d2.child.pid!);
    peak = Math.max(peak, r.hwm, r.rss);
  };
  await waitForLen(paced.total, LAG_SECONDS * 1000 + 30_000, sample2, d2.child);
  sample2();
  d2.child.kill('SIGTERM');
  await d2.exited;
  await paced.close();
  const lags: number[] = [];
  let start = '-';
  for (;;) {
    const page = await redis.xrange(keys.stream, start, '+', 'COUNT', 5000);
    for (const [id, f] of page) {
      const t = scanEvent(Buffer.from(f[1]!)).timeUs;
      if (t !== undefined) lags.push(idMs(id) - t / 1000);
    }
    if (page.length < 5000) break;
    start = '(' + page[page.length - 1]![0];
  }
  lags.sort((a, b) => a - b);
  const p50 = percentile(lags, 50);
  const p95 = percentile(lags, 95);
  say(`lag at ${LAG_RATE} events/s over ${LAG_SECONDS}s (${lags.length} events, XADD time − time_us): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${(lags[lags.length - 1] ?? NaN).toFixed(1)} ms`);
  say(`daemon peak RSS: ${peak.toFixed(0)} MB`);
  const goals = [
    `events/s ${eventsPerS >= 50_000 ? 'OK' : 'MISSED'} (goal ≥ 50000)`,
    `RSS ${peak <= 150 ? 'OK' : 'MISSED'} (goal ≤ 150 MB)`,
    `lag ${p95 <= 1000 ? 'OK' : 'MISSED'} (goal ≤ 1000 ms, p95)`,
  ];
  say(`goals: ${goals.join('; ')}`);
  await cleanup();
  redis.disconnect();
  if (json) {
    say(JSON.stringify({ events_per_s: eventsPerS, redis_xadd_per_s: xaddPerS, replay_bare_client_per_s: bareRate, daemon_cpu_us_per_event: cpuPerEvent.daemon_us, redis_cpu_us_per_event: cpuPerEvent.redis_us, rss_mb: Math.round(peak), lag_ms_at_2000: Math.round(p95 * 10) / 10, lag_p50_ms_at_2000: Math.round(p50 * 10) / 10 }));
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench:ingest failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await cleanup().catch(() => undefined);
  redis.disconnect();
  process.exit(1);
});
