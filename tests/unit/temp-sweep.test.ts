/**
 * The sweep of temporary files and folders left by dead processes: real processes (one exited, one
 * alive), real files and folders in a scratch folder.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ownTempPath, sweepDeadTemp, TEMP_PREFIX } from '../../shared/temp-sweep.js';

async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

t.test('removes the entries of dead processes only, folders included; its own with includeOwn', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sweep-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dead = await exitedPid();
  const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  t.teardown(() => alive.kill('SIGKILL'));
  const own = process.pid;
  const entries = {
    deadSpill: `${TEMP_PREFIX.duckdbSpill}${dead}`,
    deadExport: `${TEMP_PREFIX.exportCandidates}${dead}-abc.parquet`,
    aliveSpill: `${TEMP_PREFIX.duckdbSpill}${alive.pid}`,
    ownExport: `${TEMP_PREFIX.exportCandidates}${own}-def.parquet`,
    deadFlush: `${TEMP_PREFIX.flushLines}${dead}-x.lines`,
    notOurs: `${TEMP_PREFIX.duckdbSpill}cache`,
    unrelated: `something-${dead}-else`,
  };
  for (const [k, name] of Object.entries(entries)) {
    if (k.endsWith('Spill')) {
      await mkdir(path.join(dir, name, 'inner'), { recursive: true });
      await writeFile(path.join(dir, name, 'inner', 'spill.block'), 'x');
    } else {
      await writeFile(path.join(dir, name), 'x');
    }
  }
  const prefixes = [TEMP_PREFIX.duckdbSpill, TEMP_PREFIX.exportCandidates];
  t.same((await sweepDeadTemp(prefixes, { dir })).sort(), [entries.deadExport, entries.deadSpill].sort(), 'dead process, given prefixes: removed (a folder with its contents)');
  t.same((await readdir(dir)).sort(), [entries.aliveSpill, entries.ownExport, entries.deadFlush, entries.notOurs, entries.unrelated].sort(), 'alive, own, other prefixes and non-pid names stay');
  t.same(await sweepDeadTemp(prefixes, { dir, includeOwn: true }), [entries.ownExport], 'includeOwn: this process too');
  t.same(await sweepDeadTemp([TEMP_PREFIX.flushLines], { dir }), [entries.deadFlush]);
  t.same((await readdir(dir)).sort(), [entries.aliveSpill, entries.notOurs, entries.unrelated].sort());
});

t.test('ownTempPath names a file after this process, in the OS temp folder', async (t) => {
  t.equal(ownTempPath(TEMP_PREFIX.exportCandidates, 'x.parquet'), path.join(os.tmpdir(), `bsky-export-${process.pid}-x.parquet`));
});
