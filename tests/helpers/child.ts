/**
 * A TypeScript entry point run as a child process (through tsx) with its output captured, stopped at
 * teardown if the test left it running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface CapturedChild {
  child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  out(): string;
  err(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * Runs `node --import tsx <script> ...args` from the repository root with `env` (PATH is added).
 * At teardown a still-running child gets `stopSignal`, then SIGKILL after `graceMs`.
 */
export function spawnTsx(
  t: Teardown,
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: { stopSignal?: NodeJS.Signals; graceMs?: number } = {},
): CapturedChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const stopSignal = opts.stopSignal ?? 'SIGKILL';
    child.kill(stopSignal);
    if (stopSignal !== 'SIGKILL') {
      await Promise.race([exited, new Promise((r) => setTimeout(r, opts.graceMs ?? 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await exited;
  });
  return { child, out: () => out, err: () => err, exited };
}
