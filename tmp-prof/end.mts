import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();
const r = await c.runAndReadAll("SELECT strftime(make_timestamp(epoch_us(sort_at)), '%Y-%m-%dT%H:%M:%S.%fZ') FROM read_parquet('bench-data/query-8100000/naive/posts.parquet') WHERE sort_at >= TIMESTAMPTZ '2026-07-01T00:00:00Z' ORDER BY sort_at LIMIT 1 OFFSET 1000000");
console.log(r.getRows()[0]![0]);
