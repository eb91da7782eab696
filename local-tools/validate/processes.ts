/**
 * The processes a validation run drives: a private redis-server (so a Redis restart never touches the
 * shared one), the ingest daemon and the local gateway (functions + cron) as child processes, started
 * the way `npm run daemon` / `npm start` start them. Each child's stderr goes to a log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Current resident set of a process in MB (0 when it is gone). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

export interface Child {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Text written on stdout so far. */
  stdout(): string;
}

const running = new Set<ChildProcess>();
let stopping = false;

/** SIGTERM to every child still running, and no new ones (the validator was interrupted: leave nothing behind). */
export function killAllChildren(): void {
  stopping = true;
  for (const p of running) p.kill('SIGTERM');
}

/** Spawns a child with stderr appended to `logFile`; stdout is kept in memory (it is short for ours). */
export function startChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Child {
  if (stopping) throw new Error('validation interrupted');
  const log = createWriteStream(logFile, { flags: 'a' });
  log.on('error', () => undefined);
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    if (out.length > 1_000_000) out = out.slice(-100_000);
  });
  proc.stderr!.pipe(log);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, exited, stdout: () => out };
}

/** Waits until `pred()` holds, polling; throws `message` after `timeoutMs`. */
export async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number, message: string, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A redis-server of our own: append-only file in `dir`, noeviction, restartable on the same port. */
export class PrivateRedis {
  child?: Child;
  constructor(readonly port: number, readonly dir: string, readonly logFile: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.child = startChild(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction', '--logfile', this.logFile],
      process.env,
      this.logFile,
    );
    await until(() => this.ping(), 15_000, 'private redis-server did not start');
  }

  private async ping(): Promise<boolean> {
    if (this.child?.proc.exitCode !== null) throw new Error(`redis-server exited (see ${this.logFile})`);
    return new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1');
      let buf = '';
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n')) {
          s.destroy();
          resolve(buf.startsWith('+PONG'));
        }
      });
      s.on('error', () => resolve(false));
    });
  }

  /** SIGTERM (Redis writes its AOF and exits), then a new server on the same port and folder. */
  async restart(): Promise<number> {
    const t0 = Date.now();
    await this.stop();
    await this.start();
    return Date.now() - t0;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    c.proc.kill('SIGTERM');
    await c.exited;
  }
}

/** `node --import tsx <entry> …args` with `env` (how npm run daemon / npm start run them, minus npm). */
export function startTsx(entry: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Child {
  return startChild(process.execPath, ['--import', 'tsx', entry, ...args], env, logFile);
}
