import { readFileSync } from 'node:fs';
import { DuckDBInstance, listValue, timestampTZValue, type DuckDBValue } from '@duckdb/node-api';
const d = JSON.parse(readFileSync('tmp-prof/kq.json', 'utf8'));
const vals: DuckDBValue[] = d.values.map((v: any) => (typeof v === 'string' ? v : v.items ? listValue(v.items) : timestampTZValue(BigInt(v.micros))));
const [threads, mem, variant] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: threads!, memory_limit: mem!, temp_directory: '/tmp/duck-spill' });
const c = await db.connect();
const mb = () => Math.round(process.memoryUsage().rss / 1048576);
let peak = mb(); const iv = setInterval(() => (peak = Math.max(peak, mb())), 20);
let sql: string = d.sql;
const ctes = sql.slice(sql.indexOf('WITH '), sql.lastIndexOf('\nSELECT'));
if (variant === 'keys') sql = `CREATE TEMP TABLE x AS ${ctes} SELECT * FROM live`;
if (variant === 'pfeat') sql = `CREATE TEMP TABLE x AS ${ctes} SELECT * FROM pfeat`;
if (variant === 'sorted') sql = `CREATE TEMP TABLE x AS ${ctes} SELECT row_number() OVER (ORDER BY l.sort_at, l.uri) AS seq, l.fh, l.fr FROM live l`;
const t = performance.now();
if (variant === 'staged') {
  const sel = sql.slice(sql.lastIndexOf('\nSELECT') + 1);
  const live = `CREATE TEMP TABLE export_live AS ${ctes} SELECT * FROM live`;
  const feat = `CREATE TEMP TABLE export_feat AS ${ctes} SELECT * FROM pfeat`;
  try {
    await c.run(feat, vals); console.log('feat', Math.round(performance.now() - t), 'peak', peak, mb());
    await c.run(live, vals); console.log('live', Math.round(performance.now() - t), 'peak', peak, mb());
    const final = 'CREATE TEMP TABLE export_keys AS WITH live AS (SELECT * FROM export_live), pfeat AS (SELECT * FROM export_feat), ' + ctes.slice(ctes.indexOf('handles AS')) + '\n' + sel;
    await c.run(final.replace('$7', '$1'), [vals[6]!]); console.log('keys', Math.round(performance.now() - t), 'peak', peak, mb());
  } catch (e) { console.log('FAIL', String(e).slice(0, 120), peak); }
  process.exit(0);
}
try { await c.run(sql, vals); console.log(variant, threads, mem, 'ok', Math.round(performance.now() - t), 'ms peak', peak, 'after', mb()); }
catch (e) { console.log(variant, threads, mem, 'FAIL', String(e).slice(0, 90), 'peak', peak); }
clearInterval(iv);
