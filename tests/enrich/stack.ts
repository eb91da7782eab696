/**
 * A gateway-like test server: several functions mounted at /function/<name> on one HTTP server, each
 * through the template's own factory (createFunctionApp), as the local gateway does.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApiFunction } from '../../shared/api/function.js';
import { createEnrichFunction } from '../../shared/enrich/function.js';
import type { FunctionModule } from '../../shared/function-contract.js';
import { createLogger } from '../../shared/log.js';
import { createDocsFunction } from '../../shared/openapi/function.js';
import { createFunctionApp } from '../../template/node20-express/app.js';
import type { TestEnv } from '../helpers/env.js';

export type FnName = 'search' | 'export' | 'counts' | 'enrich' | 'docs';

export interface Stack {
  /** http://127.0.0.1:PORT (functions at /function/<name>). */
  base: string;
  close(): Promise<void>;
}

export async function serveStack(t: { teardown(fn: () => unknown): void }, env: TestEnv, names: FnName[], opts: { maxBodyBytes?: number; now?: () => number } = {}): Promise<Stack> {
  const gw = express();
  const mods: Required<FunctionModule>[] = [];
  for (const name of names) {
    const mod: Required<FunctionModule> =
      name === 'enrich'
        ? createEnrichFunction({ cfg: env.cfg, log: createLogger('fn:enrich', { level: 'silent' }), now: opts.now })
        : name === 'docs'
          ? createDocsFunction({ cfg: env.cfg })
          : createApiFunction(name, { cfg: env.cfg });
    await mod.init();
    mods.push(mod);
    const { app } = createFunctionApp(mod, { name, log: createLogger(`fn:${name}`, { level: 'silent' }), maxBodyBytes: opts.maxBodyBytes });
    gw.use(`/function/${name}`, app);
  }
  const server = gw.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const m of mods) await m.destroy();
  };
  t.teardown(close);
  return { base, close };
}

/** POST a body to enrich; returns status and parsed JSON. */
export async function postScores(base: string, body: string, type = 'application/x-ndjson', query = ''): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}/function/enrich${query}`, { method: 'POST', headers: { 'content-type': type }, body });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) };
}

/** GET search with a query; returns the URIs in order and the whole body. */
export async function searchUris(base: string, query: Record<string, string>): Promise<{ status: number; uris: string[]; json: any }> {
  const u = new URL(`${base}/function/search`);
  for (const [k, v] of Object.entries(query)) u.searchParams.append(k, v);
  const res = await fetch(u);
  const json = await res.json();
  return { status: res.status, uris: res.status === 200 ? (json as any).data.map((p: any) => p.uri) : [], json };
}
