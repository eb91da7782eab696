import { readFileSync } from 'node:fs';
import { DuckDBInstance, listValue, timestampTZValue, type DuckDBValue } from '@duckdb/node-api';
const [threads, mem, which] = process.argv.slice(2);
const steps = readFileSync(process.env.STEPS ?? 'tmp-prof/steps.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const db = await DuckDBInstance.create(':memory:', { threads: threads!, memory_limit: mem!, temp_directory: '/tmp/duck-spill' });
const c = await db.connect();
const mb = () => Math.round(process.memoryUsage().rss / 1048576);
let peak = mb(); const iv = setInterval(() => (peak = Math.max(peak, mb())), 20);
for (const [i, s] of steps.entries()) {
  if (which && !which.split(',').includes(String(i))) continue;
  const vals: DuckDBValue[] = s.values.map((v: any) => (typeof v === 'string' || typeof v === 'number' ? v : v.items ? listValue(v.items) : timestampTZValue(BigInt(v.micros))));
  const t = performance.now();
  try { await c.run(s.sql, vals); console.log('step', i, 'ok', Math.round(performance.now() - t), 'ms peak', peak, 'rss', mb()); }
  catch (e) { console.log('step', i, 'FAIL', String(e).slice(0, 100), 'peak', peak); break; }
}
const r = await c.runAndReadAll("SELECT tag, round(memory_usage_bytes/1048576) mb, round(temporary_storage_bytes/1048576) tmp FROM duckdb_memory() WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0");
console.log(r.getRows().map((x) => x.join(':')).join(' '));
clearInterval(iv);
