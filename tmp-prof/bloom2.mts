import { readdirSync, statSync } from 'node:fs';
import { DuckDBInstance, listValue } from '@duckdb/node-api';
import { listTableFiles } from '../shared/parquet/catalog.js';
const dir = 'bench-data/query-8100000-month30/parquet';
const all = await listTableFiles(dir, 'post_features');
const n = readdirSync('tmp-prof/bloom').length - 1;
const pf = all.slice(0, n);
const out = pf.map((_, i) => `tmp-prof/bloom/pf-${i}.parquet`);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await db.connect();
await c.run('SET GLOBAL parquet_metadata_cache = true');
const md = await c.runAndReadAll(`SELECT path_in_schema, encodings, bloom_filter_offset, bloom_filter_length, total_compressed_size FROM parquet_metadata('${out[5]}') WHERE path_in_schema = 'uri'`);
console.log(md.getRows());
const bytes = (fs: string[]) => fs.reduce((a, f) => a + statSync(f).size, 0);
console.log(n, 'files; bytes orig', bytes(pf), 'dict', bytes(out));
const uris = (await c.runAndReadAll(`SELECT uri FROM read_parquet('${pf[100]}') LIMIT 50`)).getRows().map((r) => `'${String(r[0]).replace(/'/g, "''")}'`).join(', ');
for (const round of [1, 2, 3]) for (const [name, files] of [['orig', pf], ['dict', out]] as const) {
  const t = performance.now();
  const r = await c.runAndReadAll(`SELECT uri, count(*) FROM read_parquet($1::VARCHAR[], union_by_name = true, hive_partitioning = false) WHERE uri IN (${uris}) GROUP BY uri`, [listValue(files)]);
  console.log(round, name, Math.round(performance.now() - t), 'ms', r.getRows().length);
}
