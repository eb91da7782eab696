/**
 * Helpers for the replay-server tests: synthetic Jetstream lines, a raw websocket collector, and
 * starting a server that is closed at teardown.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createLogger } from '../../shared/log.js';
import { startReplayServer, type ReplayServer, type ReplayServerOptions } from '../../local-tools/replay-server/server.js';
import { waitFor } from '../helpers/env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REAL_FIXTURE = path.join(here, '../fixtures/jetstream-real-152.jsonl');

/** The 152 real events as raw lines, and parsed. */
export function realLines(): string[] {
  return readFileSync(REAL_FIXTURE, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

export interface Synth {
  did?: string;
  timeUs: number;
  kind?: 'commit' | 'identity' | 'account';
  collection?: string;
}

/** A small event in Jetstream's key order. */
export function synthLine({ did = 'did:plc:aaaa', timeUs, kind = 'commit', collection = 'app.bsky.feed.like' }: Synth): string {
  if (kind === 'identity') {
    return JSON.stringify({ did, time_us: timeUs, kind, identity: { did, handle: 'x.test', seq: timeUs, time: '2026-07-04T14:38:08.000Z' } });
  }
  if (kind === 'account') {
    return JSON.stringify({ did, time_us: timeUs, kind, account: { active: true, did, seq: timeUs, time: '2026-07-04T14:38:08.000Z' } });
  }
  return JSON.stringify({
    did,
    time_us: timeUs,
    kind,
    commit: { rev: `rev${timeUs}`, operation: 'create', collection, rkey: `k${timeUs}`, record: { $type: collection, createdAt: '2026-07-04T14:38:08.000Z' }, cid: 'bafy' },
  });
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts a replay server on a free port, quiet, closed at teardown. */
export async function startServer(t: Teardown, opts: ReplayServerOptions): Promise<ReplayServer> {
  const server = await startReplayServer({ port: 0, statsIntervalMs: 0, log: createLogger('replay-test', { level: 'silent' }), ...opts });
  t.teardown(() => server.close());
  return server;
}

export interface Collector {
  ws: WebSocket;
  messages: string[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Connects to `url` and records every text message it receives; closed at teardown. */
export function collect(t: Teardown, url: string): Collector {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) messages.push((data as Buffer).toString('utf8'));
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  ws.on('error', () => undefined);
  t.teardown(() => ws.terminate());
  return { ws, messages, opened, closed };
}

/** Waits until the server has sent a single client everything it will get, and the client received all of it. */
export async function collectAll(t: Teardown, server: ReplayServer, query: string): Promise<string[]> {
  await waitFor('earlier clients to be gone', () => server.stats().clients === 0);
  const base = server.stats().sent;
  const c = collect(t, server.url + query);
  await c.opened;
  await waitFor('the whole replay', () => server.stats().atEnd === 1 && c.messages.length === server.stats().sent - base);
  c.ws.terminate();
  await c.closed;
  return c.messages;
}

/** The time_us of each raw line. */
export const times = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { time_us: number }).time_us);
