/**
 * `npm run bench:gen [-- --events N] [--json]`: the event generator's speed. Writes N events (default
 * 1,000,000) to a temporary `.jsonl.gz` and `.jsonl`, and prints beside them the ceiling measured in the
 * same run: gzip level 1 (what the CLI uses) compressing the same bytes. Figures are wall-clock events/s and
 * events per CPU-second (the latter is steadier on a shared machine); the 1-minute load average is printed
 * so a reader can tell a busy machine. With `--json` the last line is
 * `{"events_per_s_gz","events_per_s_plain","cpu_events_per_s_plain","gzip_ceiling_events_per_s",
 *   "bytes_per_event","gz_bytes_per_event","load_avg_1m"}`.
 * Goal (issue 3): ≥ 150,000 events/s to .jsonl.gz, so a real day (30M events) takes minutes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { writeEventsFile } from '../local-tools/generator/write.js';

const GOAL = 150_000;

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, json: { type: 'boolean', default: false } } });
const events = Number(values.events);
if (!Number.isInteger(events) || events <= 0) {
  process.stderr.write(`bench:gen: --events must be a positive integer, got "${values.events}"\n`);
  process.exit(2);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; wallS: number; cpuS: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const c = process.cpuUsage(c0);
  return { result, wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6 };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-gen-'));
try {
  const gzFile = path.join(dir, 'events.jsonl.gz');
  const plainFile = path.join(dir, 'events.jsonl');
  const gz = await timed(() => writeEventsFile({ events, out: gzFile, seed: 'bench' }));
  const plain = await timed(() => writeEventsFile({ events, out: plainFile, seed: 'bench' }));
  const ceiling = await timed(() =>
    pipeline(createReadStream(plainFile, { highWaterMark: 1 << 20 }), createGzip({ level: 1, memLevel: 9, chunkSize: 1 << 17 }), createWriteStream(path.join(dir, 'ceiling.gz'))),
  );
  const gzBytes = (await stat(gzFile)).size;
  const figures = {
    events_per_s_gz: Math.round(events / gz.wallS),
    events_per_s_plain: Math.round(events / plain.wallS),
    cpu_events_per_s_plain: Math.round(events / plain.cpuS),
    gzip_ceiling_events_per_s: Math.round(events / ceiling.wallS),
    bytes_per_event: Math.round(plain.result.bytes / events),
    gz_bytes_per_event: Math.round(gzBytes / events),
    load_avg_1m: Number((os.loadavg()[0] ?? 0).toFixed(2)),
  };
  const n = (x: number) => x.toLocaleString('en');
  process.stdout.write(
    [
      `generator, ${n(events)} events (goal ≥ ${n(GOAL)} events/s to .jsonl.gz; ${os.cpus().length} CPUs, load ${figures.load_avg_1m}):`,
      `  to .jsonl.gz      ${n(figures.events_per_s_gz)} events/s  (${gz.cpuS.toFixed(1)} CPU-s in ${gz.wallS.toFixed(1)} s)`,
      `  to .jsonl         ${n(figures.events_per_s_plain)} events/s  (${n(figures.cpu_events_per_s_plain)} events per CPU-second)`,
      `  ceiling: gzip -1  ${n(figures.gzip_ceiling_events_per_s)} events/s  of the same bytes`,
      `  size              ${figures.bytes_per_event} bytes/event raw, ${figures.gz_bytes_per_event} gzipped`,
    ].join('\n') + '\n',
  );
  if (values.json) process.stdout.write(JSON.stringify(figures) + '\n');
} finally {
  await rm(dir, { recursive: true, force: true });
}
