/**
 * The processes the local gateway looks after: a Redis it may have to start, and the ingest daemon it
 * keeps running. Each has a stop() that sends SIGTERM and waits for the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../../shared/log.js';

/** True if something at `url` answers PING. */
export async function pingRedis(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** The first executable called `name` on PATH. */
export async function findOnPath(name: string, pathVar = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathVar.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Children run in their own process group (`detached`), so a terminal Ctrl-C reaches only the gateway,
 * which then stops them in order (the daemon saves its cursor while Redis is still up). If the gateway
 * exits without that (a crash), they still get SIGTERM from this hook.
 */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGTERM');
});

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `killAfterMs`. */
export async function stopChild(child: ChildProcess, killAfterMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

export interface ManagedRedis {
  /** True when this gateway started the server (and will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

export const HOW_TO_GET_REDIS =
  'Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) so redis-server is on PATH, ' +
  'or start one yourself (docker run -p 6379:6379 redis:7), or point REDIS_URL at a running server.';

/**
 * Makes sure a Redis answers at `url`: uses a running one, else starts `redis-server` with its data in
 * `dataDir` (append-only, noeviction). Throws with instructions when neither is possible.
 */
export async function ensureRedis(url: string, dataDir: string, log: Logger, pathVar = process.env.PATH ?? ''): Promise<ManagedRedis> {
  if (await pingRedis(url)) {
    log.info({ url }, 'redis: using the running server');
    return { started: false, stop: async () => undefined };
  }
  const u = new URL(url);
  const local = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(u.hostname);
  if (!local) throw new Error(`nothing answers at REDIS_URL=${url}, and it is not a local address the gateway could start. ${HOW_TO_GET_REDIS}`);
  const bin = await findOnPath('redis-server', pathVar);
  if (!bin) throw new Error(`nothing answers at REDIS_URL=${url} and redis-server is not on PATH. ${HOW_TO_GET_REDIS}`);
  await mkdir(dataDir, { recursive: true });
  const port = u.port || '6379';
  const args = ['--port', port, '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--logfile', path.join(dataDir, 'redis.log')];
  if (u.password) args.push('--requirepass', decodeURIComponent(u.password));
  log.info({ bin, port, dir: dataDir }, 'redis: starting redis-server');
  const child = track(spawn(bin, args, { stdio: 'ignore', detached: true }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await pingRedis(url, 500)) break;
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}; see ${path.join(dataDir, 'redis.log')}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`redis-server did not answer within 10 s; see ${path.join(dataDir, 'redis.log')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    started: true,
    async stop() {
      await stopChild(child);
      log.info({ code: await exited }, 'redis: stopped');
    },
  };
}

export interface Supervised {
  stop(): Promise<void>;
}

/**
 * Runs `node --import tsx <file>` and restarts it when it dies (1 s, 2 s, … up to 30 s apart; the
 * delay resets after a minute of uptime). stop() sends SIGTERM and waits.
 */
export function supervise(name: string, file: string, opts: { cwd: string; env: Record<string, string | undefined>; log: Logger }): Supervised {
  let child: ChildProcess | undefined;
  let stopping = false;
  let delay = 1000;
  let restartTimer: NodeJS.Timeout | undefined;
  const start = () => {
    const startedAt = Date.now();
    child = track(spawn(process.execPath, ['--import', 'tsx', file], { cwd: opts.cwd, env: opts.env as NodeJS.ProcessEnv, stdio: ['ignore', 'inherit', 'inherit'], detached: true }));
    opts.log.info({ pid: child.pid, file: path.relative(opts.cwd, file) }, `${name}: started`);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt > 60_000) delay = 1000;
      opts.log.error({ code, signal, restartInMs: delay }, `${name}: exited unexpectedly; restarting`);
      restartTimer = setTimeout(start, delay);
      delay = Math.min(delay * 2, 30_000);
    });
  };
  start();
  return {
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      if (child) await stopChild(child);
      opts.log.info({ code: child?.exitCode, signal: child?.signalCode }, `${name}: stopped`);
    },
  };
}
