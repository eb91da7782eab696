/**
 * `npm run validate -- --phase day|week [--volume real|spec]`: the spec's validation phases as one command.
 * Generates the phase's events (with the generator's ground truth), replays them through the real local
 * chain — replay server → ingest daemon (child) → a private Redis → flushes on a cron schedule through the
 * local gateway → compaction → the HTTP API — injects faults and load while it runs, checks everything
 * against the truth, writes `validation/<phase>-<date>/report.md` with SVG plots, prints a one-line
 * verdict and exits 0 (pass) or 1 (fail). Options: see USAGE.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startReplayServer, type ReplayServer } from '../replay-server/server.js';
import type { Truth } from '../generator/truth.js';
import { loadConfig } from '../../shared/config/index.js';
import { redisKeys } from '../../shared/redis.js';
import { checkCompactedCompleteness, checkFlushedCompleteness, checkMemory, percentile, type CheckResult } from './checks.js';
import { batchFiles, countTables, quarantineFigures, storageFigures } from './parquet-count.js';
import { freePort, killAllChildren, PrivateRedis, ROOT, sleep, startTsx, until, type Child } from './processes.js';
import { renderReport, type FaultRecord } from './report.js';
import { runLoad, runQueryMix, takeSample, writeValidationStack, type LoadResult, type Sample } from './run-parts.js';

const USAGE = `usage: npm run validate -- --phase day|week [--volume real|spec] [--events N] [--rate N|max]
  [--skip-faults] [--skip-load] [--load-seconds 60] [--load-connections 50] [--flush-every 10]
  [--query-p95-ms 5000] [--out DIR] [--seed S] [--keep] [--break delete-parquet]
  --volume      real ≈ 30M events/day, spec ≈ 8.1M/day (default spec); week = 7 days
  --events N    override the number of events (the generated clock still spans the phase unless --gen-rate)
  --rate        replay speed to the daemon in events/s (default 8000; max = as fast as it reads)
  --break       TEST ONLY: deliberately damage the run to show the validation catches it: delete-parquet
                removes a likes batch file before the checks; skip-cursor restarts the killed daemon with its
                cursor moved forward (a daemon that does not resume from its cursor)`;

const PER_DAY = { real: 30_000_000, spec: 8_100_000 } as const;

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      phase: { type: 'string' },
      volume: { type: 'string', default: 'spec' },
      events: { type: 'string' },
      'gen-rate': { type: 'string' },
      rate: { type: 'string', default: '8000' },
      'skip-faults': { type: 'boolean', default: false },
      'skip-load': { type: 'boolean', default: false },
      'load-seconds': { type: 'string', default: '60' },
      'load-connections': { type: 'string', default: '50' },
      'flush-every': { type: 'string', default: '10' },
      'query-timeout-ms': { type: 'string', default: '15000' },
      'query-p95-ms': { type: 'string', default: '5000' },
      'drain-timeout-s': { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: 'validate' },
      keep: { type: 'boolean', default: false },
      break: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new Error(USAGE);
  const phase = values.phase;
  if (phase !== 'day' && phase !== 'week') throw new Error(`--phase must be day or week\n${USAGE}`);
  const volume = values.volume;
  if (volume !== 'real' && volume !== 'spec') throw new Error(`--volume must be real or spec`);
  const num = (name: string, v: string | undefined, min = 0): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  if (values.break !== undefined && values.break !== 'delete-parquet' && values.break !== 'skip-cursor') throw new Error('--break: delete-parquet or skip-cursor');
  if (values.break === 'skip-cursor' && values['skip-faults']) throw new Error('--break skip-cursor acts at the daemon restart fault: drop --skip-faults');
  const days = phase === 'day' ? 1 : 7;
  const events = Math.round(num('events', values.events, 1) ?? PER_DAY[volume] * days);
  const flushEvery = num('flush-every', values['flush-every'], 1)!;
  if (!Number.isInteger(flushEvery) || 60 % flushEvery !== 0) throw new Error('--flush-every: a whole number of seconds dividing 60');
  return {
    phase,
    volume,
    days,
    events,
    genRate: num('gen-rate', values['gen-rate'], 1e-6) ?? events / (days * 86_400),
    rate: values.rate === 'max' ? ('max' as const) : num('rate', values.rate, 1)!,
    faults: !values['skip-faults'],
    load: !values['skip-load'],
    loadSeconds: num('load-seconds', values['load-seconds'], 1)!,
    loadConnections: num('load-connections', values['load-connections'], 1)!,
    flushEvery,
    queryTimeoutMs: num('query-timeout-ms', values['query-timeout-ms'], 100)!,
    queryP95Ms: num('query-p95-ms', values['query-p95-ms'], 1)!,
    drainTimeoutS: num('drain-timeout-s', values['drain-timeout-s'], 1) ?? Math.max(300, events / 2000),
    out: values.out,
    seed: values.seed!,
    keep: values.keep!,
    breakWith: values.break as 'delete-parquet' | 'skip-cursor' | undefined,
  };
}

export type ValidateOptions = ReturnType<typeof parse>;

const say = (s: string) => process.stdout.write(s + '\n');
/** The temporary folder to remove if the run is interrupted. */
let workDir: string | undefined;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  const t0 = Date.now();
  const date = new Date().toISOString().slice(0, 10);
  const outDir = path.resolve(opts.out ?? path.join(ROOT, 'validation', `${opts.phase}-${date}`));
  const logDir = path.join(outDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'bsky-validate-'));
  if (!opts.keep) workDir = work;
  const timings: Record<string, number> = {};
  const mark = (k: string, since: number) => (timings[k] = (Date.now() - since) / 1000);
  say(`validate: phase ${opts.phase}, ${fmt(opts.events)} events (${opts.volume}), work dir ${work}, report ${outDir}`);

  // 1. Events and their ground truth.
  const eventsFile = path.join(work, 'events.jsonl');
  const truthFile = path.join(work, 'truth.json');
  let g = Date.now();
  const gen = startTsx(
    'local-tools/generator/main.ts',
    ['--events', String(opts.events), '--out', eventsFile, '--truth', truthFile, '--mix', opts.volume, '--rate', String(opts.genRate), '--seed', opts.seed, '--quiet'],
    process.env,
    path.join(logDir, 'generator.log'),
  );
  const gexit = await gen.exited;
  if (gexit.code !== 0) throw new Error(`generator failed (${gexit.code ?? gexit.signal}); see ${logDir}/generator.log`);
  mark('generate_s', g);
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as Truth;
  const rawBytes = statSync(eventsFile).size;
  say(`validate: generated ${fmt(truth.total)} events, ${fmt(rawBytes)} bytes of JSON in ${timings.generate_s!.toFixed(0)} s`);

  // 2. A private Redis, the replay server, the gateway (functions + cron flush), the daemon.
  const redisSrv = new PrivateRedis(await freePort(), path.join(work, 'redis'), path.join(logDir, 'redis.log'));
  await redisSrv.start();
  const prefix = `validate:${randomBytes(3).toString('hex')}:`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisSrv.url,
    REDIS_PREFIX: prefix,
    DATA_DIR: path.join(work, 'data'),
    GATEWAY_PORT: '0',
    FLUSH_CONSUMER: 'validate',
    FLUSH_LOCK_TTL_MS: String(Math.max(5000, opts.flushEvery * 2000)),
    COMPACT_GRACE_MINUTES: '0',
    QUERY_TIMEOUT_MS: String(opts.queryTimeoutMs),
    LOG_LEVEL: 'warn',
  };
  delete env.PARQUET_DIR;
  delete env.QUARANTINE_DIR;
  const cfg = loadConfig(env as Record<string, string>);
  const keys = redisKeys(prefix);
  const redis = new Redis(redisSrv.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', () => undefined);

  let replay: ReplayServer | undefined;
  let gateway: Child | undefined;
  let daemon: Child | undefined;
  const samples: Sample[] = [];
  const faults: FaultRecord[] = [];
  let load: LoadResult | undefined;
  let sampling = true;
  let drained = false;
  let drainError: string | undefined;
  const checks: CheckResult[] = [];
  let extra: Parameters<typeof renderReport>[0]['extra'] = {};
  try {
    replay = await startReplayServer({ file: eventsFile, port: 0, rate: opts.rate, statsIntervalMs: 0 });
    const stackFile = path.join(work, 'stack.validate.yml');
    await writeValidationStack(stackFile, opts.flushEvery);
    gateway = startTsx('local-tools/gateway/main.ts', ['--no-daemon', '--stack', stackFile], env, path.join(logDir, 'gateway.log'));
    await until(() => {
      if (gateway!.proc.exitCode !== null) throw new Error(`gateway exited; see ${logDir}/gateway.log`);
      return /gateway ready: .*list: (http:\/\/[^ ]+)\/\)/.test(gateway!.stdout());
    }, 120_000, 'gateway did not become ready in 120 s');
    const base = /list: (http:\/\/[^ ]+)\/\)/.exec(gateway.stdout())![1]!;
    const daemonEnv = { ...env, JETSTREAM_URL: replay.url, INGEST_HTTP_PORT: '0', LOG_LEVEL: 'info', INGEST_STATS_MS: '30000' };
    const startDaemon = () => startTsx('ingest-daemon/main.ts', [], daemonEnv, path.join(logDir, 'daemon.log'));
    daemon = startDaemon();
    const ingestStart = Date.now();
    say(`validate: pipeline up (gateway ${base}, private redis ${redisSrv.url}); ingesting at ${opts.rate} events/s`);

    // Sampler: progress and memory every second.
    const first = truth.first_time_us ?? 0;
    const last = truth.last_time_us ?? 0;
    const progress = () => {
      const c = samples.length ? samples[samples.length - 1]!.cursor : 0;
      return Number.isFinite(c) && c > 0 ? (c - first) / Math.max(1, last - first) : 0;
    };
    const sampler = (async () => {
      while (sampling) {
        samples.push(await takeSample(redis, keys, { daemon: daemon?.proc.pid, gateway: gateway?.proc.pid, redis: redisSrv.child?.proc.pid }, ingestStart));
        await sleep(1000);
      }
    })();
    const reached = (f: number) => until(() => progress() >= f, opts.drainTimeoutS * 1000, `ingest did not reach ${f * 100}%`, 250);
    const at = () => (Date.now() - ingestStart) / 1000;

    // Faults, in order, at fixed points of the ingest. The flush crash comes first: it needs entries in the
    // stream, which are sure to be there early in the ingest.
    const faultRun = (async () => {
      if (!opts.faults) return;
      await reached(0.1);
      let f0 = Date.now();
      let crashed = false;
      for (let i = 0; i < 40 && !crashed; i++) {
        const c = startTsx('functions/flush/run-once.ts', [], { ...env, FLUSH_CRASH_AT: 'between_files' }, path.join(logDir, 'flush-crash.log'));
        const r = await c.exited;
        crashed = r.signal === 'SIGKILL';
        if (!crashed) await sleep(500);
      }
      faults.push({ what: 'flush killed mid-write (FLUSH_CRASH_AT=between_files)', at_s: at(), progress: progress(), detail: crashed ? `SIGKILLed between two Parquet files after ${Date.now() - f0} ms of tries; its lock expires and the next cron run redoes the batch` : 'NOT INJECTED: no flush reached the crash point in 40 tries', failed: !crashed });
      await reached(0.25);
      f0 = Date.now();
      daemon!.proc.kill('SIGKILL');
      await daemon!.exited;
      if (opts.breakWith === 'skip-cursor') {
        // A daemon that does not resume where it stopped (e.g. from the live tail): 10% of the data skipped.
        const c = Number(await redis.get(keys.cursor));
        await redis.set(keys.cursor, String(c + Math.round((last - first) * 0.1)));
        say('validate: --break skip-cursor: moved the saved cursor forward by 10% of the data before the restart');
      }
      daemon = startDaemon();
      faults.push({ what: 'ingest daemon SIGKILL + restart', at_s: at(), progress: progress(), detail: `restarted after ${Date.now() - f0} ms; resumes from its saved cursor` });
      await reached(0.4);
      replay!.dropConnections();
      faults.push({ what: 'replay server drops the connection', at_s: at(), progress: progress(), detail: 'server-side close of every client socket' });
      await reached(0.55);
      const ms = await redisSrv.restart();
      faults.push({ what: 'Redis restart (SIGTERM, append-only file)', at_s: at(), progress: progress(), detail: `down ${ms} ms; the daemon and the flush reconnect` });
    })();
    const loadRun = (async () => {
      await faultRun;
      if (!opts.load) return;
      say(`validate: load: ${opts.loadConnections} clients × ${opts.loadSeconds} s (search + export) while ingest runs`);
      load = await runLoad(base, 'the', opts.loadSeconds, opts.loadConnections, ingestStart);
    })();
    // The week phase: the query mix at the end of each day of data (the last day's is the full mix below).
    const dayQueries: Array<{ day: number; at_s: number; p50: number; p95: number; statuses: number[] }> = [];
    const dayRun = (async () => {
      for (let d = 1; d < opts.days; d++) {
        await reached(d / opts.days);
        const q = await runQueryMix(base, [], 1);
        const ms = q.flatMap((x) => x.ms);
        dayQueries.push({ day: d, at_s: at(), p50: percentile(ms, 50), p95: percentile(ms, 95), statuses: q.flatMap((x) => x.statuses) });
      }
    })();
    await Promise.all([faultRun, loadRun, dayRun]);

    // Everything ingested and flushed: the daemon's cursor at the last event, the stream empty, nothing pending.
    try {
      await until(async () => {
        const c = Number((await redis.get(keys.cursor).catch(() => null)) ?? 0);
        if (c < last) return false;
        const len = await redis.xlen(keys.stream).catch(() => -1);
        if (len !== 0) return false;
        const pending = (await redis.xpending(keys.stream, keys.flushGroup).catch(() => [1])) as unknown[];
        return Number(pending[0]) === 0;
      }, opts.drainTimeoutS * 1000, `not drained after ${opts.drainTimeoutS} s`, 500);
      drained = true;
    } catch (err) {
      drainError = `${(err as Error).message}: cursor ${await redis.get(keys.cursor).catch(() => '?')} (last event ${last}), stream length ${await redis.xlen(keys.stream).catch(() => '?')}`;
    }
    timings.ingest_and_flush_s = (Date.now() - ingestStart) / 1000;
    say(`validate: ${drained ? 'all events ingested and flushed' : 'NOT drained'} after ${timings.ingest_and_flush_s.toFixed(0)} s`);
    daemon.proc.kill('SIGTERM');
    await daemon.exited;

    const drops = Object.values(await redis.hgetall(keys.drops)).reduce((n, v) => n + Number(v), 0);
    const gaps = await redis.zcard(keys.gaps);
    const qf = await quarantineFigures(cfg.storage.quarantineDir);
    const quarantined = qf.lines;

    if (opts.breakWith === 'delete-parquet') {
      const files = await batchFiles(cfg.storage.parquetDir, 'likes');
      if (files.length) {
        await unlink(files[0]!);
        say(`validate: --break delete-parquet: removed ${path.relative(cfg.storage.parquetDir, files[0]!)}`);
      }
    }

    // Completeness of what the flushes wrote (before compaction removes deleted records).
    g = Date.now();
    const flushed = await countTables(cfg.storage.parquetDir);
    const flushedBytes = await storageFigures(flushed);
    const comp = checkFlushedCompleteness(truth, flushed, { drops, quarantined });
    if (!drained) {
      comp.ok = false;
      comp.summary = `${drainError}; ${comp.summary}`;
    }
    checks.push(comp);
    mark('count_flushed_s', g);

    // Compaction through the gateway, then the compacted tree's counts and storage.
    g = Date.now();
    let compactSummary: unknown;
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${base}/function/compact`, { method: 'POST' });
      compactSummary = await res.json().catch(() => null);
      if (res.status !== 409) {
        if (!res.ok) throw new Error(`compact answered ${res.status}: ${JSON.stringify(compactSummary)}`);
        break;
      }
      await sleep(2000);
    }
    mark('compact_s', g);
    const compacted = await countTables(cfg.storage.parquetDir);
    checks.push(checkCompactedCompleteness(truth, compacted, qf.byTable));
    const storage = await storageFigures(compacted);
    const ratio = storage.total / rawBytes;
    // The tables keep each record's JSON for fidelity, so the expectation is under a third of the raw JSON.
    const ratioLimit = 0.3;
    const meaningful = truth.total >= 100_000;
    checks.push({
      name: 'storage',
      ok: !meaningful || ratio <= ratioLimit,
      summary: `${fmt(storage.total)} Parquet bytes after compaction = ${(ratio * 100).toFixed(1)}% of ${fmt(rawBytes)} bytes of raw JSON (${(flushedBytes.total / rawBytes * 100).toFixed(1)}% before compaction)` + (meaningful ? `; limit ${ratioLimit * 100}%` : '; too small a run for the ratio to mean anything (not judged)'),
      details: [],
    });

    // The query mix at the end of the data, through HTTP.
    g = Date.now();
    const queries = await runQueryMix(base, truth.planted, 3);
    mark('queries_s', g);
    const allMs = queries.flatMap((q) => q.ms);
    const bad = queries.filter((q) => q.problem || q.statuses.some((s) => s !== 200));
    const p95 = percentile(allMs, 95);
    checks.push({
      name: 'queries',
      ok: bad.length === 0 && p95 <= opts.queryP95Ms && dayQueries.every((d) => d.statuses.every((x) => x === 200)),
      summary: bad.length
        ? `${bad[0]!.name}: ${bad[0]!.problem ?? `status ${bad[0]!.statuses.join(',')}`}`
        : `${queries.length} kinds × 3: p50 ${percentile(allMs, 50).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms (limit ${opts.queryP95Ms} ms); ${truth.planted.length} planted posts found exactly`,
      details: dayQueries.map((d) => `end of day ${d.day} (at ${d.at_s.toFixed(0)} s, data still arriving): p50 ${d.p50.toFixed(0)} ms, p95 ${d.p95.toFixed(0)} ms, statuses ${[...new Set(d.statuses)].join(',')}`),
    });

    if (opts.faults) {
      const failed = faults.filter((f) => f.failed);
      checks.push({
        name: 'faults',
        ok: failed.length === 0 && faults.length === 4 && comp.ok,
        summary: failed.length ? failed.map((f) => f.what + ': ' + f.detail).join('; ') : `${faults.length} faults injected; completeness ${comp.ok ? 'held' : 'BROKE'} (drops ${drops}, gaps ${gaps})`,
        details: [],
      });
    }
    if (opts.load && load) {
      const errs = load.errors + load.timeouts + load.non2xx;
      checks.push({
        name: 'load',
        ok: errs === 0 && load.requests > 0,
        summary: `${load.connections} clients × ${load.seconds} s: ${fmt(load.requests)} requests, ${load.errors} errors, ${load.timeouts} timeouts, ${load.non2xx} non-2xx (statuses ${JSON.stringify(load.statuses)}); latency p50 ${load.p50} ms, p90 ${load.p90} ms, p99 ${load.p99} ms`,
        details: [],
      });
    }
    sampling = false;
    await sampler;
    // Growth is judged on the steady state (ingest, flushes, faults, load): after it, compaction of the
    // whole day and the final query mix run in the same gateway process, a burst bounded by their DuckDB
    // memory limits, not growth with data. Its peak is reported beside the check.
    const steady = samples.filter((s) => s.t <= (timings.ingest_and_flush_s ?? Infinity));
    const after = samples.filter((s) => s.t > (timings.ingest_and_flush_s ?? Infinity));
    const memSeries = [
      { name: 'daemon RSS', values: steady.map((s) => s.daemonMb) },
      { name: 'functions (gateway) RSS', values: steady.map((s) => s.functionsMb) },
      { name: 'Redis used_memory', values: steady.map((s) => s.redisUsedMb) },
    ];
    const memory = checkMemory(memSeries);
    if (after.length) {
      memory.details.push(
        `after ingest (compaction of every hour, the final query mix): functions (gateway) RSS peak ${Math.max(...after.map((s) => s.functionsMb)).toFixed(0)} MB, ` +
          `Redis used_memory peak ${Math.max(...after.map((s) => s.redisUsedMb)).toFixed(0)} MB (not part of the growth check)`,
      );
    }
    checks.splice(2, 0, memory);
    extra = { compactSummary, flushed, compacted, storage, flushedBytes, queries, load, drops, gaps, quarantined, quarantine: qf };
  } finally {
    sampling = false;
    if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
      daemon.proc.kill('SIGTERM');
      await daemon.exited;
    }
    if (gateway && gateway.proc.exitCode === null) {
      gateway.proc.kill('SIGTERM');
      await Promise.race([gateway.exited, sleep(30_000)]);
      if (gateway.proc.exitCode === null) gateway.proc.kill('SIGKILL');
    }
    await replay?.close().catch(() => undefined);
    redis.disconnect();
    await redisSrv.stop();
  }
  timings.total_s = (Date.now() - t0) / 1000;
  const ok = checks.every((c) => c.ok);
  const report = await renderReport({ opts, outDir, truth, rawBytes, checks, samples, faults, timings, extra, ok });
  if (!opts.keep) await rm(work, { recursive: true, force: true });
  else say(`validate: kept ${work}`);
  const failed = checks.filter((c) => !c.ok);
  say(
    ok
      ? `validate ${opts.phase}/${opts.volume}: PASS — ${checks.length} checks (${checks.map((c) => c.name).join(', ')}) green, ${fmt(truth.total)} events in ${timings.total_s.toFixed(0)} s; report ${path.relative(process.cwd(), report)}`
      : `validate ${opts.phase}/${opts.volume}: FAIL — ${failed.map((c) => `${c.name}: ${c.summary}`).join(' | ')}; report ${path.relative(process.cwd(), report)}`,
  );
  return ok ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`validate: ${sig}: stopping the pipeline's processes\n`);
    killAllChildren();
    setTimeout(() => {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      process.exit(1);
    }, 2000).unref();
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`validate: FAIL — the run could not complete: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
