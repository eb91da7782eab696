/**
 * A query process's first query sweeps what dead query processes left in the temp folder (DuckDB spill
 * folders, export candidate files) and its own pid's leftovers from a previous life of the container.
 * Its own file: this test file runs in a process of its own, so the sweep has not happened yet.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import t from 'tap';
import { QueryScope } from '../../shared/api/runner.js';
import { TEMP_PREFIX } from '../../shared/temp-sweep.js';

t.test("the first query scope of a process removes dead processes' spill folders and export files", async (t) => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const deadSpill = path.join(os.tmpdir(), `${TEMP_PREFIX.duckdbSpill}${dead}`);
  const ownStale = path.join(os.tmpdir(), `${TEMP_PREFIX.exportCandidates}${process.pid}-stale.parquet`);
  await mkdir(path.join(deadSpill, 'x'), { recursive: true });
  await writeFile(path.join(deadSpill, 'x', 'duckdb_temp_block'), 'x');
  await writeFile(ownStale, 'x');
  t.teardown(() => Promise.all([rm(deadSpill, { recursive: true, force: true }), rm(ownStale, { force: true })]));
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  t.teardown(() => db.closeSync());
  const scope = await QueryScope.open(db, 10_000);
  const rows = await scope.timed(async (conn) => (await conn.runAndReadAll("SELECT current_setting('temp_directory')")).getRows());
  scope.close();
  t.same(rows, [[path.join(os.tmpdir(), `${TEMP_PREFIX.duckdbSpill}${process.pid}`)]], 'spills go to this process folder');
  t.equal(existsSync(deadSpill), false, "a dead process's spill folder: removed");
  t.equal(existsSync(ownStale), false, "this pid's export file from before the process started: removed");
});
