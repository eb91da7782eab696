/**
 * The OpenAPI document: structure of a 3.1 document, every registered route present with every query
 * parameter of its schema, enums/patterns/bounds carried over, references resolvable; served by the docs
 * function over HTTP (document, page, 404, 405).
 */
import t from 'tap';
import { API_ROUTES } from '../../shared/api/routes.js';
import { FEATURE_COLUMNS } from '../../shared/tables/index.js';
import { buildOpenApiDocument } from '../../shared/openapi/generate.js';
import { makeTestEnv } from '../helpers/env.js';
import { serveStack } from '../enrich/stack.js';

const doc = buildOpenApiDocument() as any;

function refsResolve(node: unknown, root: any, t: { ok: (...args: any[]) => unknown }): void {
  if (Array.isArray(node)) return node.forEach((n) => refsResolve(n, root, t));
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref') {
      const target = String(v).replace(/^#\//, '').split('/').reduce((o: any, key) => o?.[key], root);
      t.ok(target, `$ref ${String(v)} resolves`);
    } else refsResolve(v, root, t);
  }
}

t.test('document structure', async (t) => {
  t.equal(doc.openapi, '3.1.0');
  t.type(doc.info.title, 'string');
  t.type(doc.info.version, 'string');
  t.same(doc.servers, [{ url: '/function', description: 'The OpenFaaS gateway that served this document' }]);
  t.ok(doc.components.schemas.Error.properties.error.properties.code);
  refsResolve(doc, doc, t);
  const opIds = new Set<string>();
  for (const [p, item] of Object.entries<any>(doc.paths)) {
    t.match(p, /^\//, 'paths start with /');
    for (const [method, op] of Object.entries<any>(item)) {
      t.ok(['get', 'post'].includes(method));
      t.notOk(opIds.has(op.operationId), `operationId ${op.operationId} unique`);
      opIds.add(op.operationId);
      t.ok(op.responses['200'].content, `${op.operationId} documents its 200`);
      for (const param of op.parameters) {
        t.equal(param.in, 'query');
        t.type(param.required, 'boolean');
        t.type(param.schema, 'object');
        t.notOk('description' in param.schema, 'description moved to the parameter');
      }
      // No typebox internals leak (symbols are dropped by JSON; nothing else is typebox-specific).
      t.notMatch(JSON.stringify(op), /"\[Kind\]"|"Symbol\(/);
    }
  }
  // The whole document is plain JSON (round-trips).
  t.same(JSON.parse(JSON.stringify(doc)), doc);
});

t.test('every registered route and every query parameter of its schema', async (t) => {
  for (const route of API_ROUTES) {
    const p = route.path ?? `/${route.name}`;
    const op = doc.paths[p]?.[route.method.toLowerCase()];
    t.ok(op, `${route.method} ${p} present`);
    t.equal(op.operationId, route.name);
    const names = op.parameters.map((x: any) => x.name);
    t.same(names, Object.keys(route.query.properties), `${route.name}: every query parameter, in order`);
    for (const type of route.produces) t.ok(op.responses['200'].content[type], `${route.name} produces ${type}`);
  }
  t.equal(Object.values<any>(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0), API_ROUTES.length, 'nothing else');
});

t.test('enums, patterns, bounds and defaults carried over', async (t) => {
  const param = (op: string, name: string) => {
    for (const item of Object.values<any>(doc.paths)) for (const o of Object.values<any>(item)) if (o.operationId === op) return o.parameters.find((p: any) => p.name === name);
    return undefined;
  };
  t.same(param('search', 'sort').schema, { type: 'string', enum: ['newest', 'oldest'], default: 'newest' });
  t.same(param('export', 'format').schema.enum, ['csv', 'ndjson']);
  t.same(param('counts', 'granularity').schema.enum, ['hour', 'day']);
  t.same(param('search', 'exact').schema.enum, ['true', 'false']);
  t.equal(param('search', 'limit').schema.pattern, '^\\d+$');
  t.equal(param('search', 'text').schema.minLength, 1);
  t.equal(param('search', 'text').schema.maxLength, 512);
  t.match(param('search', 'feature_filters').description, /toxicity_score>=0.8/);
  t.same(param('enrich', 'dry_run').schema, { type: 'string', enum: ['true', 'false'], default: 'false' });

  // Feature ranges reach the enrich body schema and the search response's features object.
  const enrich = doc.paths['/enrich'].post;
  const row = enrich.requestBody.content['application/x-ndjson'].schema;
  t.same(row.required, ['uri']);
  for (const c of FEATURE_COLUMNS) {
    const num = row.properties[c.name].anyOf.find((s: any) => s.type === 'number');
    t.same([num.minimum, num.maximum], [c.feature!.min, c.feature!.max], `${c.name} range`);
  }
  t.type(enrich.requestBody.content['text/csv'].example, 'string');
  t.same(Object.keys(enrich.responses).sort(), ['200', '400', '405', '413', '415']);
  const post = doc.paths['/search'].get.responses['200'].content['application/json'].schema.properties.data.items;
  t.same(Object.keys(post.properties.features.anyOf[0].properties), FEATURE_COLUMNS.map((c) => c.name));
  t.ok(doc.paths['/export'].get.responses['200'].headers['X-Row-Limit-Reached']);
});

t.test('served by the docs function', async (t) => {
  const env = await makeTestEnv(t, { CORS_ORIGINS: 'http://frontend.test' });
  const stack = await serveStack(t, env, ['docs']);
  const res = await fetch(`${stack.base}/function/docs/openapi.json`, { headers: { origin: 'http://frontend.test' } });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/json/);
  t.equal(res.headers.get('access-control-allow-origin'), 'http://frontend.test');
  t.same(await res.json(), doc);
  for (const p of ['/function/docs', '/function/docs/']) {
    const page = await fetch(stack.base + p);
    t.equal(page.status, 200);
    t.match(page.headers.get('content-type'), /^text\/html/);
    const html = await page.text();
    t.match(html, /<script>/);
    t.notMatch(html, /<script[^>]+src=|<link[^>]+href=["']?https?:/i, 'no external assets');
  }
  const missing = await fetch(`${stack.base}/function/docs/nope`);
  t.same([missing.status, ((await missing.json()) as any).error.code], [404, 'not_found']);
  const post = await fetch(`${stack.base}/function/docs`, { method: 'POST', body: 'x' });
  t.same([post.status, ((await post.json()) as any).error.code], [405, 'method_not_allowed']);
});
