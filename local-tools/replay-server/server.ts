/**
 * A Jetstream-compatible websocket server that replays a file of recorded or generated events:
 * `ws://HOST:PORT/subscribe` with the Jetstream v1 query options, each client reading from its own
 * cursor. Bad options get a 400 before the upgrade, as from the public service.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger, type Logger } from '../../shared/log.js';
import { InvalidOptionsError, parseSubscribeQuery, type SubscribeOptions } from './protocol.js';
import { describe, Session } from './session.js';
import { MemorySource, openFileSource, type EventSource } from './source.js';

export interface ReplayServerOptions {
  /** A .jsonl or .jsonl.gz file of Jetstream events sorted by time_us. */
  file?: string;
  /** Raw JSON lines, instead of a file. */
  events?: string[];
  /** 0 = a free port; default 6008. */
  port?: number;
  host?: string;
  /** Events per second to each client, or 'max' (default): as fast as its socket drains. */
  rate?: number | 'max';
  /** Start the file over when a client reaches its end, with time_us shifted forward. */
  loop?: boolean;
  log?: Logger;
  /** Files up to this many (decompressed) bytes are held in memory; larger ones are streamed. */
  memoryLimitBytes?: number;
  /** Period of the stats log line; 0 = none. Default 10 s. */
  statsIntervalMs?: number;
}

export interface ReplayServer {
  /** ws://127.0.0.1:PORT/subscribe */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Closes every client socket abruptly from the server side (no close frame), as a network drop would. */
  dropConnections(): void;
  /** `sent` counts events over all clients; `atEnd` counts clients that have had the whole replay and now idle. */
  stats(): { clients: number; sent: number; atEnd: number };
}

// Jetstream pings every 30 s; more often here because a replay goes quiet at its end, and a client that
// treats 30 s of silence as a dead socket should not flap.
const PING_INTERVAL_MS = 10_000;

/** Parses a `--rate` argument: a positive number of events per second per client, or `max`. */
export function parseRate(text: string | undefined): number | 'max' {
  if (text === undefined || text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--rate must be a positive number or "max", got ${JSON.stringify(text)}`);
  return n;
}

/** Starts the replay server; resolves once it listens. */
export async function startReplayServer(opts: ReplayServerOptions): Promise<ReplayServer> {
  const log = opts.log ?? createLogger('replay-server', { level: 'warn' });
  const rate = opts.rate ?? 'max';
  if (rate !== 'max' && !(Number.isFinite(rate) && rate > 0)) throw new Error(`rate must be a positive number or 'max', got ${String(rate)}`);
  let source: EventSource;
  if (opts.events) source = MemorySource.fromLines(opts.events, log);
  else if (opts.file) source = await openFileSource(opts.file, { memoryLimitBytes: opts.memoryLimitBytes, needEnd: opts.loop ?? false, log });
  else throw new Error('startReplayServer needs a file or events');

  // A looping pass lasts the file's span plus one average gap between events.
  let loopPeriodUs = 0;
  if (opts.loop && Number.isFinite(source.firstTimeUs) && Number.isFinite(source.lastTimeUs)) {
    const span = source.lastTimeUs - source.firstTimeUs;
    const gap = source.count && source.count > 1 ? Math.max(1, Math.round(span / (source.count - 1))) : 1000;
    loopPeriodUs = span + gap;
  }

  const sessions = new Map<number, Session>();
  let nextId = 1;
  let sent = 0;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replay');
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (url.pathname === '/subscribe') {
      try {
        parseSubscribeQuery(url.searchParams, req.headers);
        reply(400, 'Bad Request: /subscribe is a websocket endpoint (send Upgrade: websocket)\n');
      } catch (err) {
        reply(400, badRequestText(err));
      }
    } else if (url.pathname === '/stats') {
      reply(200, JSON.stringify(stats()), 'application/json');
    } else if (url.pathname === '/') {
      reply(200, `Jetstream replay server: subscribe at /subscribe; replaying ${source.description}\n`);
    } else {
      reply(404, 'Not Found\n');
    }
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://replay');
    if (url.pathname !== '/subscribe') {
      rejectUpgrade(socket, 404, 'Not Found\n');
      return;
    }
    let sub: SubscribeOptions;
    try {
      sub = parseSubscribeQuery(url.searchParams, req.headers);
    } catch (err) {
      log.info({ query: url.search, reason: (err as Error).message }, 'rejected a subscriber with bad options');
      rejectUpgrade(socket, 400, badRequestText(err));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, sub, req));
  });

  function accept(ws: WebSocket, sub: SubscribeOptions, req: http.IncomingMessage): void {
    const id = nextId++;
    const session = new Session(id, ws, sub, {
      source,
      rate,
      loopPeriodUs,
      log,
      onSent: (n) => {
        sent += n;
      },
    });
    sessions.set(id, session);
    log.info(
      { client: id, remote: req.socket.remoteAddress, cursor: sub.cursor, collections: describe(sub.filters), requireHello: sub.requireHello },
      'subscriber connected',
    );
    const ping = setInterval(() => ws.ping(), PING_INTERVAL_MS);
    ping.unref();
    ws.on('close', (code) => {
      clearInterval(ping);
      sessions.delete(id);
      log.info({ client: id, code, sent: session.sent }, 'subscriber disconnected');
    });
    void session.run();
  }

  function stats() {
    let atEnd = 0;
    for (const s of sessions.values()) if (s.atEnd) atEnd++;
    return { clients: sessions.size, sent, atEnd };
  }

  let lastSent = 0;
  const statsEvery = opts.statsIntervalMs ?? 10_000;
  const statsTimer = statsEvery > 0 ? setInterval(() => {
    if (sessions.size === 0 && sent === lastSent) return;
    log.info({ ...stats(), perSecond: Math.round(((sent - lastSent) * 1000) / statsEvery) }, 'replay stats');
    lastSent = sent;
  }, statsEvery) : null;
  statsTimer?.unref();

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 6008, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  log.info({ port, source: source.description, events: source.count, rate, loop: loopPeriodUs > 0 }, 'replay server listening');

  const dropConnections = () => {
    for (const ws of wss.clients) ws.terminate();
  };

  let closing: Promise<void> | null = null;
  return {
    url: `ws://${urlHost}:${port}/subscribe`,
    port,
    stats,
    dropConnections,
    close() {
      closing ??= (async () => {
        if (statsTimer) clearInterval(statsTimer);
        for (const s of sessions.values()) s.stop();
        dropConnections();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await source.close();
      })();
      return closing;
    },
  };
}

function badRequestText(err: unknown): string {
  return err instanceof InvalidOptionsError ? err.message : 'bad request';
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
function rejectUpgrade(socket: Duplex, status: number, body: string): void {
  const text = status === 404 ? 'Not Found' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
