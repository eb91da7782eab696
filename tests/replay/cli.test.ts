// `npm run replay`: the CLI prints its listening line, serves a .gz file, exits 0 on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { waitFor } from '../helpers/env.js';
import { collect, realLines } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'local-tools/replay-server/main.ts');

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

t.test('serves a .gz file on --port 0 and stops on SIGTERM', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'replay-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lines = realLines();
  const file = path.join(dir, 'events.jsonl.gz');
  await writeFile(file, gzipSync(lines.join('\n') + '\n'));

  const { child, out, exited } = run(['--file', file, '--port', '0', '--rate', 'max']);
  t.teardown(() => child.kill('SIGKILL'));
  const m = await waitFor('the listening line', () => /^replay-server listening (ws:\/\/127\.0\.0\.1:\d+\/subscribe)\n/.exec(out.stdout), 20_000);
  const c = collect(t, m[1] as string);
  await c.opened;
  await waitFor('every event', () => c.messages.length === lines.length);
  t.same(c.messages, lines, 'the .gz file byte for byte');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 on SIGTERM');
  t.equal((await c.closed).code, 1006, 'clients are dropped');
});

t.test('bad arguments exit 2 with a usage line', async (t) => {
  const { out, exited } = run(['--file', 'x.jsonl', '--rate', 'fast']);
  t.equal(await exited, 2);
  t.match(out.stderr, /--rate must be a positive number or "max", got "fast"\nusage: npm run replay/);
});
