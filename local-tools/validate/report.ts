/** Writes the validation report: `report.md` with the check table and figures, and the SVG plots beside it. */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Truth } from '../generator/truth.js';
import type { CheckResult } from './checks.js';
import { percentile } from './checks.js';
import type { CountedTable, QuarantineFigures, StorageFigures, TableCounts } from './parquet-count.js';
import { COUNTED_TABLES } from './parquet-count.js';
import type { LoadResult, QueryStat, Sample } from './run-parts.js';
import { lineChart } from './svg.js';

export interface FaultRecord {
  what: string;
  at_s: number;
  progress: number;
  detail: string;
  failed?: boolean;
}

export interface ReportInput {
  opts: { phase: string; volume: string; events: number; rate: number | 'max'; faults: boolean; load: boolean; flushEvery: number; seed: string; breakWith?: string };
  outDir: string;
  truth: Truth;
  rawBytes: number;
  checks: CheckResult[];
  samples: Sample[];
  faults: FaultRecord[];
  timings: Record<string, number>;
  extra: {
    compactSummary?: unknown;
    flushed?: Map<CountedTable, TableCounts>;
    compacted?: Map<CountedTable, TableCounts>;
    storage?: StorageFigures;
    flushedBytes?: StorageFigures;
    queries?: QueryStat[];
    load?: LoadResult;
    drops?: number;
    gaps?: number;
    quarantined?: number;
    quarantine?: QuarantineFigures;
  };
  ok: boolean;
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '—');
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

/** Per-second rate of a counter over consecutive samples (samples where Redis did not answer are skipped). */
function rates(samples: Sample[], value: (s: Sample) => number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let prev: Sample | undefined;
  for (const s of samples) {
    if (!Number.isFinite(value(s))) continue;
    if (prev && s.t > prev.t) out.push([s.t, Math.max(0, (value(s) - value(prev)) / (s.t - prev.t))]);
    prev = s;
  }
  return out;
}

export async function renderReport(r: ReportInput): Promise<string> {
  const { samples, extra } = r;
  const plots: Array<[string, string, string]> = [];
  plots.push(['events-per-second.svg', 'Events written to Redis per second', lineChart([{ name: 'ingested/s (daemon → stream)', points: rates(samples, (s) => s.added) }, { name: 'flushed/s (stream → Parquet)', points: rates(samples, (s) => s.added - s.backlog) }], { title: 'Events per second', xLabel: 'seconds since ingest start', yLabel: 'events/s' })]);
  plots.push(['lag.svg', 'Flush lag: entries waiting in the stream', lineChart([{ name: 'stream backlog (entries)', points: samples.map((s) => [s.t, s.backlog]) }], { title: 'Lag (entries not yet flushed)', xLabel: 'seconds since ingest start', yLabel: 'entries' })]);
  plots.push([
    'memory.svg',
    'Memory',
    lineChart(
      [
        { name: 'daemon RSS', points: samples.map((s) => [s.t, s.daemonMb]) },
        { name: 'functions RSS', points: samples.map((s) => [s.t, s.functionsMb]) },
        { name: 'Redis used_memory', points: samples.map((s) => [s.t, s.redisUsedMb]) },
        { name: 'Redis RSS', points: samples.map((s) => [s.t, s.redisRssMb]) },
      ],
      { title: 'Memory (MB)', xLabel: 'seconds since ingest start', yLabel: 'MB' },
    ),
  ]);
  if (extra.load?.perSecond.length) {
    plots.push([
      'query-latency.svg',
      'Query latency under load',
      lineChart(
        [
          { name: 'p50', points: extra.load.perSecond.map((p) => [p.t, p.p50]) },
          { name: 'p95', points: extra.load.perSecond.map((p) => [p.t, p.p95]) },
        ],
        { title: `Latency of search/export, ${extra.load.connections} clients (ms)`, xLabel: 'seconds since ingest start', yLabel: 'ms' },
      ),
    ]);
  }
  for (const [file, , svg] of plots) await writeFile(path.join(r.outDir, file), svg);
  await writeFile(path.join(r.outDir, 'samples.json'), JSON.stringify(samples) + '\n');

  const L: string[] = [];
  L.push(`# Validation: ${r.opts.phase} phase, ${r.opts.volume} volume — ${r.ok ? 'PASS' : 'FAIL'}`);
  L.push('');
  L.push(`Run ${new Date().toISOString()} on ${os.hostname()} (${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}). ` +
    `The machine is shared with other work, so rates and latencies are lower bounds, not the pipeline's capacity.`);
  L.push('');
  L.push(`${fmt(r.truth.total)} generated events (seed \`${r.opts.seed}\`, ${fmt(r.rawBytes)} bytes of JSON), replayed at ${r.opts.rate} events/s → ingest daemon → private Redis (AOF) → flush every ${r.opts.flushEvery} s via the local gateway's cron → compaction → HTTP API. Faults: ${r.opts.faults ? 'yes' : 'skipped'}; load: ${r.opts.load ? 'yes' : 'skipped'}${r.opts.breakWith ? `; **deliberately broken with --break ${r.opts.breakWith}**` : ''}.`);
  L.push('');
  L.push('| check | result | figures |');
  L.push('|---|---|---|');
  for (const c of r.checks) L.push(`| ${c.name} | ${c.ok ? 'pass' : '**FAIL**'} | ${c.summary.replace(/\|/g, '\\|')} |`);
  L.push('');
  L.push(`Timings (s): ${Object.entries(r.timings).map(([k, v]) => `${k.replace(/_s$/, '')} ${v.toFixed(0)}`).join(', ')}.`);
  for (const c of r.checks) {
    if (!c.details.length) continue;
    L.push('');
    L.push(`### ${c.name}`);
    for (const d of c.details) L.push(`- ${d}`);
  }
  if (extra.flushed && extra.compacted) {
    L.push('');
    L.push('## Completeness per table');
    L.push('');
    L.push(`Drops counted by the daemon: ${extra.drops ?? 0}; gaps recorded: ${extra.gaps ?? 0}; quarantined lines: ${extra.quarantined ?? 0}.`);
    const q = extra.quarantine;
    if (q?.lines) {
      L.push('');
      L.push(`Quarantined by the flush (malformed by its rules): by reason ${JSON.stringify(q.byReason)}, by table ${JSON.stringify(q.byTable)}. One example per reason:`);
      for (const [reason, ex] of Object.entries(q.examples)) L.push(`- \`${reason}\`: \`${ex.replace(/`/g, "'")}\``);
    }
    L.push('');
    L.push('| table | truth (events) | flushed rows | distinct | hours matching truth | after compaction | compacted bytes |');
    L.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const t of COUNTED_TABLES) {
      const f = extra.flushed.get(t);
      const c = extra.compacted.get(t);
      const hours = Object.keys(r.truth.by_hour);
      const matching = hours.filter((h) => (f?.byHour.get(h)?.distinct ?? 0) === (r.truth.by_hour[h]?.[t] ?? 0)).length;
      L.push(`| ${t} | ${fmt(r.truth.by_table[t] ?? 0)} | ${fmt(f?.rows ?? 0)} | ${fmt(f?.distinct ?? 0)} | ${matching}/${hours.length} | ${fmt(c?.rows ?? 0)} | ${fmt(extra.storage?.byTable.get(t) ?? 0)} |`);
    }
  }
  if (extra.storage) {
    L.push('');
    L.push('## Storage');
    L.push('');
    L.push(`Raw JSON ${mb(r.rawBytes)} MB; Parquet after the flushes ${mb(extra.flushedBytes?.total ?? 0)} MB; after compaction ${mb(extra.storage.total)} MB (${((extra.storage.total / r.rawBytes) * 100).toFixed(1)}% of the JSON).`);
    L.push('');
    L.push('| day | Parquet MB (compacted) |');
    L.push('|---|---:|');
    for (const [d, b] of [...extra.storage.byDay].sort()) L.push(`| ${d} | ${mb(b)} |`);
    if (extra.compactSummary) {
      L.push('');
      L.push('Compaction summary: `' + JSON.stringify(extra.compactSummary).slice(0, 600) + '`');
    }
  }
  if (r.faults.length) {
    L.push('');
    L.push('## Faults injected');
    L.push('');
    L.push('| fault | at (s) | ingest progress | detail |');
    L.push('|---|---:|---:|---|');
    for (const f of r.faults) L.push(`| ${f.what} | ${f.at_s.toFixed(0)} | ${(f.progress * 100).toFixed(0)}% | ${f.detail} |`);
  }
  if (extra.queries) {
    L.push('');
    L.push('## Queries at the end of the data (3 runs each, HTTP through the gateway)');
    L.push('');
    L.push('| query | statuses | p50 ms | max ms |');
    L.push('|---|---|---:|---:|');
    for (const q of extra.queries) L.push(`| ${q.name.replace(/\|/g, '\\|')}${q.problem ? ` — **${q.problem}**` : ''} | ${[...new Set(q.statuses)].join(',')} | ${percentile(q.ms, 50).toFixed(0)} | ${Math.max(...q.ms).toFixed(0)} |`);
  }
  if (extra.load) {
    const l = extra.load;
    L.push('');
    L.push('## Load');
    L.push('');
    L.push(`autocannon, ${l.connections} connections for ${l.seconds} s, cycling search text=the, export text=the (CSV), search lang=ja, export lang=de (NDJSON), while ingest and flushes ran: ${fmt(l.requests)} requests, ${l.errors} errors, ${l.timeouts} timeouts, ${l.non2xx} non-2xx (statuses ${JSON.stringify(l.statuses)}); latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms.`);
  }
  const peaks = (k: keyof Sample) => Math.max(0, ...samples.map((s) => Number(s[k])).filter(Number.isFinite));
  L.push('');
  L.push('## Plots');
  L.push('');
  L.push(`Peaks: daemon RSS ${peaks('daemonMb').toFixed(0)} MB, functions (one gateway process holding every function) RSS ${peaks('functionsMb').toFixed(0)} MB, Redis used_memory ${peaks('redisUsedMb').toFixed(0)} MB, stream backlog ${fmt(peaks('backlog'))} entries.`);
  for (const [file, caption] of plots) {
    L.push('');
    L.push(`![${caption}](${file})`);
  }
  L.push('');
  const file = path.join(r.outDir, 'report.md');
  await writeFile(file, L.join('\n') + '\n');
  return file;
}
