/**
 * Test helpers for the ingest daemon: synthetic events with known time_us, a daemon child process,
 * a private Redis server with a memory limit, and stream readers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { waitFor } from '../helpers/env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
const FIXTURE = path.join(here, 'fixtures/jetstream-real-152.jsonl');

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The real captured events (copied from ../shared/fixtures). */
export function realEvents(): string[] {
  return readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

/** `n` real-shaped events (cycling the captured ones) with time_us = startUs + i * stepUs, so each is unique. */
export function syntheticEvents(n: number, startUs = 1_783_175_000_000_000, stepUs = 1000): string[] {
  const real = realEvents();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = real[i % real.length]!;
    out.push(line.replace(/"time_us":\d+/, `"time_us":${startUs + i * stepUs}`));
  }
  return out;
}

export function timeOf(line: string): number {
  return (JSON.parse(line) as { time_us: number }).time_us;
}

/** Every entry of a stream: id and the time_us of field `e`. */
export async function streamEntries(redis: Redis, key: string): Promise<{ id: string; e: string; timeUs: number }[]> {
  const out: { id: string; e: string; timeUs: number }[] = [];
  let start = '-';
  for (;;) {
    const page = await redis.xrange(key, start, '+', 'COUNT', 5000);
    for (const [id, fields] of page) {
      const e = fields[fields.indexOf('e') + 1]!;
      out.push({ id, e, timeUs: timeOf(e) });
    }
    if (page.length < 5000) return out;
    start = '(' + page[page.length - 1]![0];
  }
}

export interface DaemonProcess {
  proc: ChildProcess;
  logs: string[];
  /** Port of /healthz and /metrics, once listening. */
  port: () => Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node --import tsx ingest-daemon/main.ts` with `env` (logs at info); killed at teardown if still running. */
export function spawnDaemon(t: Teardown, env: Record<string, string>): DaemonProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'ingest-daemon/main.ts'], {
    cwd: ROOT,
    // info level: the port is read from the "http listening" line.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', INGEST_HTTP_PORT: '0', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: string[] = [];
  let tail = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    const lines = (tail + chunk.toString('utf8')).split('\n');
    tail = lines.pop() ?? '';
    logs.push(...lines);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return {
    proc,
    logs,
    exited,
    port: () =>
      waitFor('daemon http port', () => {
        for (const l of logs) {
          if (l.includes('"http listening"')) return (JSON.parse(l) as { port: number }).port;
        }
        return undefined;
      }, 20_000),
  };
}

/** A free TCP port on 127.0.0.1 (for a private redis-server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server (never the shared one) that can be stopped and started again on its port. */
export interface PrivateRedis {
  url: string;
  /** A client for assertions (reconnects by itself). */
  redis: Redis;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a private redis-server with `args`; `dir` keeps its data across stop/start (with --appendonly yes). */
export async function startPrivateRedis(t: Teardown, args: string[], dir?: string): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const base = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...(dir ? ['--dir', dir] : ['--appendonly', 'no'])];
    proc = spawn('redis-server', [...base, ...args], { stdio: 'ignore' });
    const p = proc;
    exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
    await waitFor('private redis', async () => {
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect().catch(() => undefined);
      return (await redis.ping()) === 'PONG';
    }, 10_000);
  };
  const stop = async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM'); // redis writes its AOF and exits
      await exited;
    }
  };
  t.teardown(async () => {
    redis.disconnect();
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    await exited;
  });
  await start();
  return { url, redis, stop, start };
}

/** Fetches a daemon URL and returns status and text. */
export async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** The value of one Prometheus sample line (`name{labels} value`), or undefined. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(sample + ' ')) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
