/**
 * The OpenFaaS glue shared by search, export and counts: a handler module (`default`, `init`,
 * `destroy`) that opens the process's context once, answers CORS preflights, allows GET/HEAD only,
 * runs the query function and counts the outcome in the `bsky_api_*` metrics.
 */
import { loadConfig, type Config } from '../config/index.js';
import { createContext, type AppContext, type ContextOverrides } from '../context.js';
import { AppError, toErrorResponse } from '../errors.js';
import type { FunctionContext, FunctionEvent, FunctionModule } from '../function-contract.js';
import { corsHeaders } from './cors.js';
import { apiMetrics } from './metrics.js';
import { createQueryApi, type ApiAnswer, type QueryApi } from './service.js';

export type ApiFunctionName = 'search' | 'export' | 'counts';

export interface ApiFunctionOptions {
  /** Environment to read the configuration from (default process.env). */
  env?: Record<string, string | undefined>;
  cfg?: Config;
  overrides?: ContextOverrides;
}

/** A handler module for one query function. */
export function createApiFunction(name: ApiFunctionName, opts: ApiFunctionOptions = {}): Required<FunctionModule> & { state(): AppContext | undefined } {
  const metrics = apiMetrics();
  let ctx: AppContext | undefined;
  let api: QueryApi | undefined;
  let starting: Promise<void> | undefined;

  async function init(): Promise<void> {
    starting ??= (async () => {
      const cfg = opts.cfg ?? loadConfig(opts.env);
      ctx = await createContext(cfg, `fn:${name}`, opts.overrides);
      api = createQueryApi({ cfg, duckdb: ctx.duckdb, redis: ctx.redis, keys: ctx.keys, log: ctx.log, metrics, functionName: name });
    })();
    await starting;
  }

  async function run(event: FunctionEvent): Promise<ApiAnswer> {
    const q = event.query as Record<string, unknown>;
    switch (name) {
      case 'search':
        return api!.search(q, event.signal);
      case 'counts':
        return api!.counts(q, event.signal);
      case 'export':
        return api!.exportPosts(q, event.signal);
    }
  }

  async function handler(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
    await init();
    const cfg = ctx!.cfg;
    context.headers(corsHeaders(cfg.api.corsOrigins, event.headers, event.method));
    if (event.method === 'OPTIONS') {
      context.status(204);
      return undefined;
    }
    const endTimer = metrics.latency.startTimer({ function: name });
    try {
      if (event.method !== 'GET' && event.method !== 'HEAD') {
        context.headers({ allow: 'GET, HEAD, OPTIONS' });
        throw new AppError('method_not_allowed', `${name} answers GET requests`, 405);
      }
      const answer = await run(event);
      context.headers(answer.headers);
      if (answer.rows >= 0) metrics.rows.inc({ function: name }, answer.rows);
      metrics.requests.inc({ function: name, status: '200', code: 'ok' });
      return answer.body;
    } catch (err) {
      const { status, body } = toErrorResponse(err);
      metrics.requests.inc({ function: name, status: String(status), code: body.error.code });
      if (body.error.code === 'query_timeout') metrics.timeouts.inc({ function: name });
      throw err;
    } finally {
      endTimer();
    }
  }

  async function destroy(): Promise<void> {
    await starting?.catch(() => undefined);
    await ctx?.destroy();
    ctx = undefined;
    api = undefined;
    starting = undefined;
  }

  return { default: handler, init, destroy, state: () => ctx };
}
