/**
 * Pieces of a validation run that talk to the running pipeline: the gateway's stack file, the sampler,
 * fault injection, the load test and the query mix.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import YAML from 'yaml';
import type { PlantedPost } from '../generator/generator.js';
import { percentile } from './checks.js';
import { ROOT, rssMb } from './processes.js';

/** stack.yml with absolute handler folders, the flush every `flushEverySec` seconds and compaction left to us. */
export async function writeValidationStack(file: string, flushEverySec: number): Promise<void> {
  const doc = YAML.parse(await readFile(path.join(ROOT, 'stack.yml'), 'utf8')) as {
    functions: Record<string, { handler: string; annotations?: Record<string, string> }>;
  };
  for (const [name, f] of Object.entries(doc.functions)) {
    f.handler = path.resolve(ROOT, f.handler);
    if (name === 'flush') f.annotations = { ...f.annotations, topic: 'cron-function', schedule: `*/${flushEverySec} * * * * *` };
    // The run compacts once every event is flushed (the completeness check reads the batch files first).
    else if (f.annotations?.topic?.includes('cron-function')) delete f.annotations.topic;
  }
  await writeFile(file, YAML.stringify(doc));
}

export interface Sample {
  t: number;
  /** Entries the daemon appended to the stream so far (XINFO entries-added). */
  added: number;
  /** Entries waiting in the stream (not yet flushed and trimmed). */
  backlog: number;
  cursor: number;
  daemonMb: number;
  functionsMb: number;
  redisRssMb: number;
  redisUsedMb: number;
}

export interface Pids {
  daemon?: number;
  gateway?: number;
  redis?: number;
}

/** One sample of progress and memory; Redis fields are NaN while Redis is restarting. */
export async function takeSample(redis: Redis, keys: { stream: string; cursor: string }, pids: Pids, t0: number): Promise<Sample> {
  const s: Sample = {
    t: (Date.now() - t0) / 1000,
    added: Number.NaN,
    backlog: Number.NaN,
    cursor: Number.NaN,
    daemonMb: rssMb(pids.daemon),
    functionsMb: rssMb(pids.gateway),
    redisRssMb: rssMb(pids.redis),
    redisUsedMb: Number.NaN,
  };
  try {
    const [info, mem, cursor] = await Promise.all([
      redis.call('XINFO', 'STREAM', keys.stream).catch(() => null) as Promise<unknown[] | null>,
      redis.info('memory'),
      redis.get(keys.cursor),
    ]);
    if (Array.isArray(info)) {
      const i = info.indexOf('entries-added');
      const j = info.indexOf('length');
      if (i >= 0) s.added = Number(info[i + 1]);
      if (j >= 0) s.backlog = Number(info[j + 1]);
    } else {
      s.added = 0;
      s.backlog = 0;
    }
    s.redisUsedMb = Number(/used_memory:(\d+)/.exec(mem)?.[1] ?? Number.NaN) / 1024 / 1024;
    s.cursor = cursor ? Number(cursor) : 0;
  } catch {
    // Redis restarting: keep the NaNs.
  }
  return s;
}

export interface LoadResult {
  seconds: number;
  connections: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  perSecond: Array<{ t: number; p50: number; p95: number }>;
  /** HTTP status → responses. */
  statuses: Record<string, number>;
}

/** `connections` concurrent clients alternating a search and an export for `seconds` (autocannon). */
export async function runLoad(base: string, word: string, seconds: number, connections: number, t0: number): Promise<LoadResult> {
  const q = encodeURIComponent(word);
  const byTick = new Map<number, number[]>();
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url: base,
    connections,
    duration: seconds,
    timeout: 60,
    requests: [
      { method: 'GET', path: `/function/search?text=${q}&limit=20` },
      { method: 'GET', path: `/function/export?text=${q}&format=csv` },
      { method: 'GET', path: `/function/search?lang=ja&limit=20` },
      { method: 'GET', path: `/function/export?lang=de&format=ndjson` },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    const tick = Math.floor((Date.now() - t0) / 1000);
    let a = byTick.get(tick);
    if (!a) byTick.set(tick, (a = []));
    a.push(ms);
  });
  const r = await instance;
  return {
    seconds,
    connections,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    perSecond: [...byTick].map(([t, a]) => ({ t, p50: percentile(a, 50), p95: percentile(a, 95) })),
    statuses,
  };
}

export interface QueryStat {
  name: string;
  path: string;
  statuses: number[];
  ms: number[];
  problem?: string;
}

/** The end-of-run query mix through HTTP; planted phrases must return exactly the planted posts. */
export async function runQueryMix(base: string, planted: PlantedPost[], reps: number): Promise<QueryStat[]> {
  const phrases = [...new Set(planted.map((p) => p.phrase))];
  const mix: Array<{ name: string; path: string; expectUris?: string[] }> = [
    ...phrases.map((ph) => ({
      name: `search planted "${ph}"`,
      path: `/function/search?text=${encodeURIComponent(ph)}&limit=500`,
      expectUris: planted.filter((p) => p.phrase === ph).map((p) => p.uri),
    })),
    { name: 'search text=the (newest)', path: '/function/search?text=the&limit=50' },
    { name: 'search lang=ja has_media=true', path: '/function/search?lang=ja&has_media=true&limit=50' },
    { name: 'search is_reply=false oldest', path: '/function/search?is_reply=false&sort=oldest&limit=50' },
    { name: 'counts per hour', path: '/function/counts?granularity=hour' },
    { name: 'counts text=the per day', path: '/function/counts?text=the' },
    { name: 'export text=the csv', path: '/function/export?text=the&format=csv' },
  ];
  const out: QueryStat[] = [];
  for (const q of mix) {
    const st: QueryStat = { name: q.name, path: q.path, statuses: [], ms: [] };
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      const res = await fetch(base + q.path);
      const body = await res.text();
      st.ms.push(performance.now() - t);
      st.statuses.push(res.status);
      if (q.expectUris && res.status === 200 && i === 0) {
        const got = new Set((JSON.parse(body) as { data: Array<{ uri: string }> }).data.map((d) => d.uri));
        const want = new Set(q.expectUris);
        const lost = [...want].filter((u) => !got.has(u));
        const stray = [...got].filter((u) => !want.has(u));
        if (lost.length || stray.length) st.problem = `${lost.length} planted posts not found, ${stray.length} unexpected (e.g. ${lost[0] ?? stray[0]})`;
      }
    }
    out.push(st);
  }
  return out;
}
