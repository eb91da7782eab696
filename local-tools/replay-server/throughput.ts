/**
 * `npx tsx local-tools/replay-server/throughput.ts FILE [--memory-limit BYTES] [--query '?wantedCollections=…']`:
 * how fast the replay server pushes FILE to one `ws` client at `--rate max` (both in this process), how
 * long a client waits for its first event at a few cursors, and the process's peak RSS. A measuring
 * tool for the replay server itself; the pipeline's figures come from `npm run bench:ingest`.
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { createLogger } from '../../shared/log.js';
import { startReplayServer } from './server.js';

const { values, positionals } = parseArgs({
  options: { 'memory-limit': { type: 'string' }, query: { type: 'string', default: '' } },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: npx tsx local-tools/replay-server/throughput.ts FILE [--memory-limit BYTES] [--query Q]\n');
  process.exit(2);
}
let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const rssTimer = setInterval(sampleRss, 100);
const mb = (n: number) => Math.round(n / 1e6);

let t0 = performance.now();
const memoryLimitBytes = values['memory-limit'] ? Number(values['memory-limit']) : undefined;
const server = await startReplayServer({ file, port: 0, memoryLimitBytes, log: createLogger('replay', { level: 'warn' }) });
console.log(`opened in ${Math.round(performance.now() - t0)} ms; rss ${mb(process.memoryUsage().rss)} MB`);

async function firstEvent(query: string): Promise<{ ms: number; timeUs: number }> {
  const start = performance.now();
  const ws = new WebSocket(server.url + query);
  const text = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
  ws.terminate();
  return { ms: performance.now() - start, timeUs: (JSON.parse(text) as { time_us: number }).time_us };
}
const first = (await firstEvent('')).timeUs;
for (const seconds of [10, 100, 400]) {
  const r = await firstEvent(`?cursor=${first + seconds * 1e6}`);
  console.log(`cursor first+${seconds}s: first event ${((r.timeUs - first) / 1e6).toFixed(3)} s after the file's first, after ${Math.round(r.ms)} ms`);
}

await new Promise<void>((resolve) => {
  const check = setInterval(() => server.stats().clients === 0 && (clearInterval(check), resolve()), 20);
});
const base = server.stats().sent;
t0 = performance.now();
let received = 0;
const ws = new WebSocket(server.url + values.query);
ws.on('message', () => received++);
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    if (server.stats().atEnd === 1 && received === server.stats().sent - base) {
      clearInterval(check);
      resolve();
    }
  }, 20);
});
const ms = performance.now() - t0;
sampleRss();
console.log(`sent ${received} events in ${Math.round(ms)} ms = ${Math.round((received * 1000) / ms)} events/s; peak rss ${mb(peakRss)} MB`);
ws.terminate();
clearInterval(rssTimer);
await server.close();
