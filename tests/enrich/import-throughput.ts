/**
 * Not a test (tap runs only *.test.ts): a quick measure of enrich import throughput over HTTP through the
 * template, NDJSON and CSV, N rows each (default 100,000). Prints one JSON line per format.
 *   npx tsx tests/enrich/import-throughput.ts [N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../shared/config/index.js';
import { createEnrichFunction } from '../../shared/enrich/function.js';
import { createLogger } from '../../shared/log.js';
import { createFunctionApp } from '../../template/node20-express/app.js';

const N = Number(process.argv[2] ?? 100_000);
const dir = await mkdtemp(path.join(os.tmpdir(), 'enrich-throughput-'));
const log = createLogger('enrich', { level: 'silent' });
const mod = createEnrichFunction({ cfg: loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'warn', DUCKDB_THREADS: '2' }), log });
await mod.init();
const { app } = createFunctionApp(mod, { name: 'enrich', log, maxBodyBytes: 256 << 20 });
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
try {
  const uri = (i: number) => `at://did:plc:bench${i % 5000}/app.bsky.feed.post/3l${i}`;
  const ndjson: string[] = [];
  const csv = ['uri,toxicity_score,political_score,perspective_insult,model'];
  for (let i = 0; i < N; i++) {
    ndjson.push(JSON.stringify({ uri: uri(i), toxicity_score: (i % 100) / 100, political_score: 0.5, perspective_insult: 0.01, model: 'bench-v1' }));
    csv.push(`${uri(i)},${(i % 100) / 100},0.5,0.01,bench-v1`);
  }
  for (const [type, body] of [
    ['application/x-ndjson', ndjson.join('\n') + '\n'],
    ['text/csv', csv.join('\n') + '\n'],
  ] as const) {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    const answer = (await res.json()) as { accepted: number };
    const ms = performance.now() - t0;
    console.log(JSON.stringify({ type, rows: N, body_mb: +(body.length / 1e6).toFixed(1), status: res.status, accepted: answer.accepted, ms: Math.round(ms), rows_per_s: Math.round(N / (ms / 1000)) }));
  }
} finally {
  server.close();
  await mod.destroy();
  await rm(dir, { recursive: true, force: true });
}
