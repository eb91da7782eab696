/**
 * `npm test`: runs the whole tap suite and ends with the plain summary line CI reads,
 * `N passed, N failed` (tap's own last line is a JS object literal). Arguments go to tap,
 * e.g. `npm test -- tests/unit/config.test.ts`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const tapBin = path.join(path.dirname(require.resolve('tap/package.json')), 'dist/esm/run.mjs');

/** `npm test -- tests/api` means every test file under that folder (tap itself wants files). */
function expand(arg: string): string[] {
  if (arg.startsWith('-') || !existsSync(arg) || !statSync(arg).isDirectory()) return [arg];
  return readdirSync(arg, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(arg, f))
    .sort();
}

const args = process.argv.slice(2).flatMap(expand);
const child = spawn(process.execPath, [tapBin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
let summary = '';
let tail = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  const text = tail + chunk.toString('utf8');
  const lines = text.split('\n');
  tail = lines.pop() ?? '';
  for (const line of lines) if (/^# \{ total: \d+/.test(line)) summary = line;
});
child.on('close', (code, signal) => {
  if (/^# \{ total: \d+/.test(tail)) summary = tail;
  const num = (key: string) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary)?.[1] ?? 0);
  const total = num('total');
  const failed = num('fail') + (summary ? 0 : 1);
  const skipped = num('skip') + num('todo');
  const passed = summary ? num('pass') : 0;
  const extra = skipped ? `, ${skipped} skipped` : '';
  if (!summary) process.stdout.write(`\ntap printed no summary (exit ${code ?? signal}); ${total} tests counted\n`);
  process.stdout.write(`\n${passed} passed, ${failed} failed${extra}\n`);
  process.exit(code === 0 && failed === 0 ? 0 : code || 1);
});
