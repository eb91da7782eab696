import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import type { Logger } from '../../shared/log.js';
import type { InFlight } from './app.js';

export interface DrainingServer {
  server: http.Server;
  port: number;
  /**
   * Stops accepting connections at once, waits for in-flight requests (at most `graceMs`), then
   * aborts what is left and closes every connection. Resolves true if everything drained in time.
   */
  shutdown(graceMs: number): Promise<boolean>;
}

export interface ListenOptions {
  port: number;
  host?: string;
  /** Time allowed to receive a whole request (ms; 0 = Node's default). */
  requestTimeoutMs?: number;
  log: Logger;
}

/** Listens with `handler` and knows how to drain `inFlight` (one or many function apps) on shutdown. */
export async function listenDraining(handler: RequestListener, inFlight: InFlight[], opts: ListenOptions): Promise<DrainingServer> {
  const server = http.createServer(handler);
  if (opts.requestTimeoutMs && opts.requestTimeoutMs > 0) server.requestTimeout = opts.requestTimeoutMs;
  // Longer than common proxies' idle timeouts, so they never reuse a socket we are closing.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<boolean> | undefined;

  return {
    server,
    port,
    shutdown(graceMs) {
      closing ??= (async () => {
        // New connections are refused from here; keep-alive sockets close once their request ends.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        server.on('request', (_req, res) => res.setHeader('connection', 'close'));
        const busy = inFlight.reduce((n, f) => n + f.size, 0);
        if (busy > 0) opts.log.info({ inFlight: busy, graceMs }, 'draining in-flight requests');
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          Promise.all(inFlight.map((f) => f.idle())).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), graceMs);
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
        if (!drained) {
          opts.log.warn({ inFlight: inFlight.reduce((n, f) => n + f.size, 0) }, 'grace period over: aborting in-flight requests');
          for (const f of inFlight) f.abortAll(new Error('shutting down'));
          // Give aborted handlers a moment to answer before the sockets go.
          await Promise.race([Promise.all(inFlight.map((f) => f.idle())), new Promise((r) => setTimeout(r, 1000).unref())]);
        }
        server.closeAllConnections();
        await closed;
        return drained;
      })();
      return closing;
    },
  };
}
