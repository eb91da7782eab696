/**
 * Test helper: runs the template's production entry (template/node20-express/index.ts) as a child
 * process with a fixture handler, and waits for its "listening" log line to learn the port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'tests/template/fixtures');

export interface FunctionProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts `node [--import tsx] entry` and resolves once it logged `listening` (throws if it exits first). */
export async function spawnFunction(
  t: Teardown,
  env: Record<string, string>,
  entry = path.join(ROOT, 'template/node20-express/index.ts'),
  cwd = ROOT,
): Promise<FunctionProcess> {
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', FUNCTION_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      for (const line of err.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const rec = JSON.parse(line) as { msg?: string; port?: number };
          if (rec.msg === 'listening' && typeof rec.port === 'number') resolve(rec.port);
        } catch {
          // partial line
        }
      }
    });
    void exited.then(({ code }) => reject(new Error(`function exited (${code}) before listening:\n${err}`)));
  });
  return { child, pid: child.pid!, port, url: `http://127.0.0.1:${port}`, stdout: () => out, stderr: () => err, exited };
}
