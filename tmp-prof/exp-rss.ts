import { loadConfig } from '../shared/config/index.js';
import { createContext } from '../shared/context.js';
import { createLogger } from '../shared/log.js';
import { createQueryApi } from '../shared/api/service.js';
import { apiMetrics } from '../shared/api/metrics.js';
const [start, end, mem] = process.argv.slice(2);
const cfg = loadConfig({ ...process.env, DATA_DIR: process.env.BENCH_DIR ?? 'bench-data/query-8100000', LOG_LEVEL: 'warn', QUERY_TIMEOUT_MS: '120000', QUERY_MAX_SCAN_BYTES: '0', ROW_LIMIT_ENABLED: 'false', REDIS_PREFIX: 'x:', DUCKDB_MEMORY_LIMIT: mem ?? '256MB' });
const ctx = await createContext(cfg, 'p', { log: createLogger('p', { level: 'warn' }) });
const mb = () => Math.round(process.memoryUsage().rss / 1048576);
let peak = mb();
const iv = setInterval(() => (peak = Math.max(peak, mb())), 20);
console.log('idle rss', mb());
const api = createQueryApi({ cfg, duckdb: ctx.duckdb, redis: ctx.redis, keys: ctx.keys, log: ctx.log, metrics: apiMetrics() });
const t = performance.now();
const res = await api.exportPosts({ format: 'csv', start: start!, end: end! });
let n = 0;
const side = await ctx.duckdb.connect();
const dmem = async () => (await side.runAndReadAll("SELECT tag, round(memory_usage_bytes/1048576) mb, round(temporary_storage_bytes/1048576) tmp FROM duckdb_memory() WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0")).getRows().map((r) => r.join(':')).join(' ');
for await (const c of res.body) {
  if (n === 0 || n % 10 === 0) console.log(`chunk ${n} at ${Math.round(performance.now() - t)} ms rss ${mb()} peak ${peak} heap ${Math.round(process.memoryUsage().heapUsed / 1048576)} ext ${Math.round(process.memoryUsage().external / 1048576)} ab ${Math.round(process.memoryUsage().arrayBuffers / 1048576)}`);
  if (n === 0 || n === 30) console.log('  duckdb', await dmem());
  n++;
}
clearInterval(iv);
console.log('done', Math.round(performance.now() - t), 'ms peak', peak);
await ctx.destroy();
