import { DuckDBInstance, listValue } from '@duckdb/node-api';
import { listTableFiles } from '../shared/parquet/catalog.js';
const dir = 'bench-data/query-8100000-month30/parquet';
const del = await listTableFiles(dir, 'deletes');
const pf = await listTableFiles(dir, 'post_features');
console.log(del.length, pf.length);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await db.connect();
await c.run('SET GLOBAL parquet_metadata_cache = true');
const uris = (await c.runAndReadAll(`SELECT uri FROM read_parquet('${del[0]}') LIMIT 50`)).getRows().map((r) => String(r[0]));
for (const round of [1, 2, 3]) {
  for (const ubn of [true, false]) {
    for (const [name, files] of [['deletes', del], ['post_features', pf]] as const) {
      const t = performance.now();
      await c.runAndReadAll(`SELECT uri, count(*) FROM read_parquet($1::VARCHAR[], union_by_name = ${ubn}, hive_partitioning = false) WHERE uri IN (SELECT unnest($2::VARCHAR[])) GROUP BY uri`, [listValue(files), listValue(uris)]);
      console.log(round, name, 'union_by_name', ubn, Math.round(performance.now() - t), 'ms');
    }
  }
}
const lit = uris.map((u) => `'${u.replace(/'/g, "''")}'`).join(', ');
for (const round of [1, 2]) {
  for (const [name, files] of [['deletes', del], ['post_features', pf]] as const) {
    const t = performance.now();
    const r = await c.runAndReadAll(`SELECT uri, count(*) FROM read_parquet($1::VARCHAR[], union_by_name = true, hive_partitioning = false) WHERE uri IN (${lit}) GROUP BY uri`, [listValue(files)]);
    console.log(round, name, 'literal IN', Math.round(performance.now() - t), 'ms', r.getRows().length);
  }
}
const md = await c.runAndReadAll(`SELECT file_name, row_group_id, row_group_num_rows, stats_min, stats_max FROM parquet_metadata('${pf[pf.length - 10]}') WHERE path_in_schema = 'uri' LIMIT 5`);
console.log(md.getRows());
