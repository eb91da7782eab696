/**
 * The local gateway's HTTP side: every function of a stack file mounted at /function/<name> through
 * the template's own factory (createFunctionApp), plus the cron schedule. Process management (Redis,
 * the ingest daemon, the replay server) lives in main.ts.
 */
import express from 'express';
import path from 'node:path';
import { loadConfig } from '../../shared/config/index.js';
import { AppError } from '../../shared/errors.js';
import type { FunctionModule } from '../../shared/function-contract.js';
import type { Logger } from '../../shared/log.js';
import { renderMetrics } from '../../shared/metrics.js';
import { createFunctionApp, type InFlight } from '../../template/node20-express/app.js';
import { firstExisting, loadFunctionModule } from '../../template/node20-express/load.js';
import { listenDraining } from '../../template/node20-express/server.js';
import { CRON_HEADERS, startCron, type CronScheduler } from './cron.js';
import type { Stack, StackFunction } from './stack.js';

export interface GatewayOptions {
  stack: Stack;
  port: number;
  host?: string;
  /** The process environment each function's stack `environment` is laid over. */
  env: Record<string, string | undefined>;
  log: Logger;
  /** Grace period for in-flight requests on close (ms). */
  shutdownGraceMs: number;
}

export interface MountedFunction {
  name: string;
  state: 'ready' | 'missing' | 'failed';
  schedule?: string;
}

export interface Gateway {
  port: number;
  url: string;
  functions: MountedFunction[];
  close(): Promise<void>;
}

/** What a function sees as its environment: the gateway's, with the stack's `environment` on top. */
export function functionEnv(base: Record<string, string | undefined>, fn: StackFunction): Record<string, string | undefined> {
  return { ...base, ...fn.environment };
}

/**
 * Runs `body` with process.env temporarily replaced by `env`, so a handler that reads its config
 * (loadConfig() defaults to process.env) at import or in init() gets its own function's settings.
 */
async function withProcessEnv<T>(env: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;
  try {
    return await body();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

function stub(code: string, message: string, status: number): FunctionModule {
  return {
    default: () => {
      throw new AppError(code, message, status);
    },
  };
}

async function loadOne(fn: StackFunction, env: Record<string, string | undefined>, log: Logger): Promise<{ mod: FunctionModule; state: MountedFunction['state'] }> {
  const rel = path.relative(process.cwd(), fn.handlerDir) || '.';
  const file = await firstExisting([path.join(fn.handlerDir, 'handler.ts'), path.join(fn.handlerDir, 'handler.js')]);
  if (!file) {
    log.warn({ function: fn.name, handler: rel }, 'handler not found: the function answers 501 until it exists');
    return { mod: stub('not_implemented', `function ${fn.name} has no handler yet (${rel}/handler.ts)`, 501), state: 'missing' };
  }
  try {
    return await withProcessEnv(env, async () => {
      const mod = await loadFunctionModule(file);
      if (mod.init) await mod.init();
      return { mod, state: 'ready' as const };
    });
  } catch (err) {
    log.error({ function: fn.name, err }, 'handler failed to load or init: the function answers 503');
    return { mod: stub('function_unavailable', `function ${fn.name} failed to start; see the gateway log`, 503), state: 'failed' };
  }
}

/** Loads every function of the stack, mounts it, starts listening and the cron schedule. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { log, stack } = opts;
  const gw = express();
  gw.disable('x-powered-by');
  const inFlight: InFlight[] = [];
  const mounted: Array<MountedFunction & { mod: FunctionModule }> = [];

  for (const fn of stack.functions) {
    const env = functionEnv(opts.env, fn);
    // A bad setting stops the gateway, as it would stop the function's container.
    const cfg = loadConfig(env);
    const { mod, state } = await loadOne(fn, env, log);
    const fnLog = log.child(fn.name);
    const { app, inFlight: fnInFlight } = createFunctionApp(mod, {
      name: fn.name,
      log: fnLog,
      maxBodyBytes: cfg.runtime.fn.maxBodyBytes,
      execTimeoutMs: cfg.runtime.fn.execTimeoutMs,
    });
    gw.use(`/function/${fn.name}`, app);
    inFlight.push(fnInFlight);
    mounted.push({ name: fn.name, state, schedule: fn.schedule, mod });
  }

  gw.get('/', (_req, res) => {
    res.json({ functions: mounted.map(({ name, state, schedule }) => ({ name, state, url: `/function/${name}`, schedule })) });
  });
  gw.get('/healthz', (_req, res) => {
    res.type('text/plain').send('OK');
  });
  gw.get('/metrics', async (_req, res) => {
    const { contentType, body } = await renderMetrics();
    res.setHeader('content-type', contentType);
    res.end(body);
  });
  gw.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no function at ${req.path}; see GET / for the list` } });
  });

  const srv = await listenDraining(gw, inFlight, { port: opts.port, host: opts.host ?? '127.0.0.1', log });
  const url = `http://127.0.0.1:${srv.port}`;

  const jobs = stack.functions.filter((f) => f.schedule).map((f) => ({ name: f.name, schedule: f.schedule! }));
  const cron: CronScheduler = startCron(
    jobs,
    async (name) => {
      const res = await fetch(`${url}/function/${name}`, { method: 'POST', headers: CRON_HEADERS });
      return { status: res.status, body: await res.text() };
    },
    log.child('cron'),
  );

  let closing: Promise<void> | undefined;
  return {
    port: srv.port,
    url,
    functions: mounted.map(({ name, state, schedule }) => ({ name, state, schedule })),
    close() {
      closing ??= (async () => {
        cron.stop();
        await srv.shutdown(opts.shutdownGraceMs);
        for (const m of mounted) {
          try {
            await m.mod.destroy?.();
          } catch (err) {
            log.error({ function: m.name, err }, 'destroy failed');
          }
        }
      })();
      return closing;
    },
  };
}
