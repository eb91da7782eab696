/**
 * The validation command end to end on a tiny phase: every part of the local chain really runs (generator,
 * replay server, daemon, private redis-server, gateway with cron flushes, compaction, HTTP API, faults,
 * load), and a deliberately damaged run fails on the check that notices it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'local-tools/validate/main.ts');
// 3,000 events over ~50 minutes of generated time (one hour partition), replayed at 300/s so the four
// faults land while events are still flowing; flushes every 2 s.
const TINY = ['--phase', 'day', '--events', '3000', '--gen-rate', '1', '--rate', '300', '--flush-every', '2', '--query-timeout-ms', '2000'];

/** A fresh output folder, removed at teardown. */
function outDir(t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bsky-validate-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function validate(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

t.test('a tiny day phase with faults and load passes every check and writes the report', async (t) => {
  const out = outDir(t);
  const r = await validate([...TINY, '--load-seconds', '4', '--load-connections', '10', '--out', out]);
  t.equal(r.code, 0, r.out);
  const verdict = r.out.trim().split('\n').pop()!;
  t.match(verdict, /^validate day\/spec: PASS — 7 checks \(completeness, compaction, memory, storage, queries, faults, load\) green, 3,000 events/);
  const report = readFileSync(path.join(out, 'report.md'), 'utf8');
  for (const check of ['completeness', 'compaction', 'memory', 'storage', 'queries', 'faults', 'load']) t.match(report, new RegExp(`^\\| ${check} \\| pass \\|`, 'm'), check);
  t.match(report, /\| posts \| 875 \| [\d,]+ \| 875 \| 1\/1 \| 870 \|/, 'posts: truth, distinct rows, hours, after deletes');
  t.match(report, /\| ingest daemon SIGKILL \+ restart \|/);
  t.match(report, /\| flush killed mid-write \(FLUSH_CRASH_AT=between_files\) \| \d+ \| \d+% \| SIGKILLed between two Parquet files/);
  for (const svg of ['events-per-second.svg', 'lag.svg', 'memory.svg', 'query-latency.svg']) {
    t.ok(existsSync(path.join(out, svg)), svg);
    t.match(readFileSync(path.join(out, svg), 'utf8'), /^<svg [^>]*>[\s\S]*<path d="M[\s\S]*<\/svg>\n$/, `${svg} has a line`);
    t.match(report, `](${svg})`);
  }
});

t.test('a run that loses a Parquet file fails on completeness with exit code 1', async (t) => {
  const out = outDir(t);
  const r = await validate([...TINY, '--skip-faults', '--skip-load', '--rate', '3000', '--break', 'delete-parquet', '--out', out]);
  t.equal(r.code, 1, r.out);
  const verdict = r.out.trim().split('\n').pop()!;
  t.match(verdict, /^validate day\/spec: FAIL — completeness: [\d,]+ events missing, 0 unexpected \(drops 0, quarantined 0\) — first mismatch: likes 2026-07-01T00: \d+ distinct rows in Parquet, truth 1144 \(-\d+\)/);
  t.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /^\| completeness \| \*\*FAIL\*\* \|/m);
});

t.test('a daemon that does not resume from its cursor fails completeness and faults', async (t) => {
  const out = outDir(t);
  // Slower than TINY's 300/s: in one loaded CI run the validation passed despite the break, most likely
  // because the daemon's restart (after the flush-crash fault's tries, each a process start) came once the
  // 10 s ingest had finished, so the skipped cursor pointed past the end. At 100/s the ingest lasts 30 s.
  const r = await validate([...TINY, '--skip-load', '--rate', '100', '--break', 'skip-cursor', '--out', out]);
  t.equal(r.code, 1, r.out);
  const verdict = r.out.trim().split('\n').pop()!;
  t.match(verdict, /^validate day\/spec: FAIL — completeness: [\d,]+ events missing, 0 unexpected \(drops 0, quarantined 0\) — first mismatch: posts 2026-07-01T00: \d+ distinct rows in Parquet, truth 875 \(-\d+\)/);
  t.match(verdict, /\| faults: 4 faults injected; completeness BROKE/);
});

t.test('bad options are refused with a message', async (t) => {
  const r = await validate(['--phase', 'month']);
  t.equal(r.code, 1);
  t.match(r.out, /--phase must be day or week/);
});
