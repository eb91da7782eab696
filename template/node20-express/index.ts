/**
 * Production entry of the `node20-express` template: loads the function's handler module, serves it
 * on FUNCTION_PORT (8080) and drains on SIGTERM. In the image the handler sits at
 * functions/handler/handler.js beside this file's template/node20-express/ folder (see README.md).
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../shared/config/index.js';
import type { FunctionModule } from '../../shared/function-contract.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { createFunctionApp } from './app.js';
import { firstExisting, loadFunctionModule } from './load.js';
import { listenDraining } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ServeOptions {
  name: string;
  port: number;
  log: Logger;
  maxBodyBytes: number;
  execTimeoutMs: number;
  readTimeoutMs: number;
  shutdownGraceMs: number;
  /** Created once listening, removed when SIGTERM arrives (OpenFaaS exec readiness probe). */
  lockFile?: string;
}

/**
 * Runs `mod` as a function server until SIGTERM/SIGINT: stop accepting, let in-flight requests finish
 * (bounded by the grace period), call `mod.destroy()`, exit 0. An unref()ed timer forces the exit if
 * something keeps the event loop alive.
 */
export async function serveFunction(mod: FunctionModule, opts: ServeOptions): Promise<void> {
  const { log } = opts;
  if (mod.init) await mod.init();
  const { app, inFlight } = createFunctionApp(mod, { name: opts.name, log, maxBodyBytes: opts.maxBodyBytes, execTimeoutMs: opts.execTimeoutMs });
  const srv = await listenDraining(app, [inFlight], { port: opts.port, requestTimeoutMs: opts.readTimeoutMs, log });
  if (opts.lockFile) await writeFile(opts.lockFile, '');
  log.info({ port: srv.port, function: opts.name }, 'listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, inFlight: inFlight.size }, 'shutting down');
    if (opts.lockFile) await rm(opts.lockFile, { force: true });
    setTimeout(() => {
      log.error({}, 'shutdown took too long: forcing exit');
      process.exit(1);
    }, opts.shutdownGraceMs + 10_000).unref();
    const drained = await srv.shutdown(opts.shutdownGraceMs);
    try {
      await mod.destroy?.();
    } catch (err) {
      log.error({ err }, 'destroy failed');
    }
    log.info({ drained }, 'stopped');
    process.exitCode = 0;
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

async function main(cfg: Config): Promise<void> {
  const fn = cfg.runtime.fn;
  const log = createLogger(`fn:${fn.name}`, { level: cfg.runtime.logLevel });
  const file = fn.handler
    ? path.resolve(fn.handler)
    : await firstExisting([path.join(here, '../../functions/handler/handler.js'), path.join(here, '../../functions/handler/handler.ts')]);
  if (!file) throw new Error('no handler module found: set FUNCTION_HANDLER or build the image with the template Dockerfile');
  const mod = await loadFunctionModule(file);
  await serveFunction(mod, {
    name: fn.name,
    port: fn.port,
    log,
    maxBodyBytes: fn.maxBodyBytes,
    execTimeoutMs: fn.execTimeoutMs,
    readTimeoutMs: fn.readTimeoutMs,
    shutdownGraceMs: fn.shutdownGraceMs,
    lockFile: fn.lockFile || undefined,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  main(cfg).catch((err: unknown) => {
    createLogger('fn').error({ err }, 'function failed to start');
    process.exit(1);
  });
}
