import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();
const r = await c.runAndReadAll("SELECT name, value, description FROM duckdb_settings() WHERE name LIKE '%alloc%' OR name LIKE '%jemalloc%'");
for (const row of r.getRows()) console.log(row.join(' | '));
const e = await c.runAndReadAll("SELECT extension_name, loaded, installed FROM duckdb_extensions() WHERE loaded");
console.log(e.getRows().map((x) => x[0]).join(','));
