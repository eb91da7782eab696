/**
 * The docs function: GET /function/docs → the interactive page, GET /function/docs/openapi.json → the
 * OpenAPI 3.1 document (both built once per process from the route registry).
 */
import { corsHeaders } from '../api/cors.js';
import { loadConfig, type Config } from '../config/index.js';
import { AppError, NotFoundError } from '../errors.js';
import type { FunctionContext, FunctionEvent, FunctionModule } from '../function-contract.js';
import { collectProcessMetrics, counter } from '../metrics.js';
import { buildOpenApiDocument } from './generate.js';
import { docsPageHtml } from './page.js';

export interface DocsFunctionOptions {
  env?: Record<string, string | undefined>;
  cfg?: Config;
}

/** A handler module for docs. */
export function createDocsFunction(opts: DocsFunctionOptions = {}): Required<FunctionModule> {
  const requests = counter({ name: 'bsky_docs_requests_total', help: 'Docs requests by what was asked (page, openapi, other) and status.', labelNames: ['what', 'status'] as const });
  let cfg: Config | undefined;
  let page: string | undefined;
  let doc: string | undefined;

  async function init(): Promise<void> {
    if (cfg) return;
    collectProcessMetrics();
    cfg = opts.cfg ?? loadConfig(opts.env);
    page = docsPageHtml();
    doc = JSON.stringify(buildOpenApiDocument(), null, 2);
  }

  async function handler(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
    await init();
    context.headers(corsHeaders(cfg!.api.corsOrigins, event.headers, event.method));
    if (event.method === 'OPTIONS') {
      context.status(204);
      return undefined;
    }
    const p = event.path.replace(/\/+$/, '') || '/';
    const what = p === '/' || p === '/index.html' ? 'page' : p === '/openapi.json' ? 'openapi' : 'other';
    try {
      if (event.method !== 'GET' && event.method !== 'HEAD') {
        context.headers({ allow: 'GET, HEAD, OPTIONS' });
        throw new AppError('method_not_allowed', 'docs answers GET requests', 405);
      }
      if (what === 'other') throw new NotFoundError('not_found', 'no such document: try /function/docs or /function/docs/openapi.json', 'path');
      context.headers(
        what === 'page'
          ? { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }
          : { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' },
      );
      requests.inc({ what, status: '200' });
      return what === 'page' ? page : doc;
    } catch (err) {
      requests.inc({ what, status: String((err as AppError).status ?? 500) });
      throw err;
    }
  }

  async function destroy(): Promise<void> {
    cfg = undefined;
  }

  return { default: handler, init, destroy };
}
