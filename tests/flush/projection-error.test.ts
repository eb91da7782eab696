/** A row that breaks a projection is found by bisection and quarantined; the other rows are written. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import tap from 'tap';
import { sqlString } from '../../shared/duckdb.js';
import { copyTableHour, dropStaged, LineFile, stageBatch } from '../../shared/flush/convert.js';
import type { TableDef } from '../../shared/tables/index.js';

tap.test('projection errors: culprits quarantined, file written without them', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bsky-proj-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const db = await DuckDBInstance.create(':memory:');
  t.teardown(() => db.closeSync());
  const conn = await db.connect();
  t.teardown(() => conn.closeSync());

  const timeUs = Date.UTC(2026, 6, 4, 14, 0, 0) * 1000;
  const ns = ['1', '2', 'x', '4', '5', 'y', '7'];
  const entries = ns.map((n, i) => ({
    id: `${1000 + i}-0`,
    raw: Buffer.from(
      JSON.stringify({ did: 'did:plc:a', time_us: timeUs + i, kind: 'commit', commit: { rev: `r${i}`, operation: 'create', collection: 'test.strict', rkey: `k${i}`, cid: 'c', record: { n } } }),
    ),
  }));
  // A deliberately strict column: CAST fails on 'x' and 'y'.
  const strict: TableDef = {
    name: 'records',
    description: 'test',
    source: 'firehose',
    where: `kind = 'commit' AND collection = 'test.strict'`,
    columns: [
      { name: 'rkey', type: 'VARCHAR', sql: 'rkey', description: 'record key' },
      { name: 'n', type: 'BIGINT', sql: `CAST((record->>'$.n') AS INTEGER)`, description: 'strict number' },
    ],
    dedupeKey: ['rkey'],
    sortKey: ['rkey'],
    timeColumn: 'rkey',
  };
  const fetched: string[][] = [];
  const fetchRaw = async (ids: string[]) => {
    fetched.push(ids);
    return new Map(ids.map((id) => [id, `raw of ${id}`]));
  };
  const lines = await LineFile.create(path.join(dir, 'lines'));
  await lines.add(entries);
  await lines.close();
  const staged = await stageBatch(conn, lines, fetchRaw);
  t.same(staged.quarantined, []);
  t.same(staged.outputs.find((o) => o.table === 'records')?.rows, 7);

  const file = path.join(dir, 'out.parquet');
  const hourIndex = Math.floor(timeUs / 3_600_000_000);
  const bad = await copyTableHour(conn, strict, hourIndex, file, 122880, lines.ids, fetchRaw);
  t.same(bad.map((b) => [b.stream_id, b.reason, b.raw]), [
    ['1002-0', 'projection_error', 'raw of 1002-0'],
    ['1005-0', 'projection_error', 'raw of 1005-0'],
  ]);
  t.match(bad[0]!.detail, /Conversion Error|Could not convert/);
  const rows = await conn.runAndReadAll(`SELECT rkey, n FROM read_parquet(${sqlString(file)}) ORDER BY rkey`);
  t.same(rows.getRowObjectsJson(), [
    { rkey: 'k0', n: '1' }, { rkey: 'k1', n: '2' }, { rkey: 'k3', n: '4' }, { rkey: 'k4', n: '5' }, { rkey: 'k6', n: '7' },
  ]);
  await dropStaged(conn);
});
