import { mkdirSync } from 'node:fs';
import { DuckDBInstance, listValue } from '@duckdb/node-api';
import { listTableFiles } from '../shared/parquet/catalog.js';
const dir = 'bench-data/query-8100000-month30/parquet';
const pf = await listTableFiles(dir, 'post_features');
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await db.connect();
await c.run('SET GLOBAL parquet_metadata_cache = true');
mkdirSync('tmp-prof/bloom', { recursive: true });
const out: string[] = [];
const t0 = performance.now();
for (const [i, f] of pf.entries()) {
  const o = `tmp-prof/bloom/pf-${i}.parquet`;
  await c.run(`COPY (SELECT * FROM read_parquet('${f}')) TO '${o}' (FORMAT parquet, COMPRESSION zstd, DICTIONARY_SIZE_LIMIT 10000000)`);
  out.push(o);
}
console.log('rewrote', out.length, Math.round(performance.now() - t0), 'ms');
const md = await c.runAndReadAll(`SELECT path_in_schema, encodings, bloom_filter_offset, bloom_filter_length, total_compressed_size FROM parquet_metadata('${out[5]}') WHERE path_in_schema = 'uri'`);
console.log(md.getRows());
const size = async (files: string[]) => Number((await c.runAndReadAll(`SELECT sum(total_compressed_size) FROM parquet_metadata($1::VARCHAR[])`, [listValue(files)])).getRows()[0]![0]);
console.log('bytes orig', await size(pf), 'dict', await size(out));
const uris = (await c.runAndReadAll(`SELECT uri FROM read_parquet('${pf[300]}') LIMIT 50`)).getRows().map((r) => `'${String(r[0]).replace(/'/g, "''")}'`).join(', ');
for (const round of [1, 2, 3]) for (const [name, files] of [['orig', pf], ['dict', out]] as const) {
  const t = performance.now();
  const r = await c.runAndReadAll(`SELECT uri, count(*) FROM read_parquet($1::VARCHAR[], union_by_name = true, hive_partitioning = false) WHERE uri IN (${uris}) GROUP BY uri`, [listValue(files)]);
  console.log(round, name, Math.round(performance.now() - t), 'ms', r.getRows().length);
}
