/**
 * The OpenAPI 3.1 document of the research API, generated from the route registry (shared/api/routes.ts):
 * the same typebox schemas that validate the requests become the parameter and response schemas
 * (OpenAPI 3.1 schemas are JSON Schema 2020-12, which typebox emits). Unions of string literals become
 * `enum`s; patterns, lengths, bounds, defaults and examples are carried over as they are.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { API_ROUTES, errorSchema, type ApiRoute } from '../api/routes.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** A typebox schema as plain JSON Schema: symbols dropped, literal unions turned into enums. */
export function toJsonSchema(schema: TSchema): JsonObject {
  return normalize(JSON.parse(JSON.stringify(schema)) as Json) as JsonObject;
}

function normalize(v: Json): Json {
  if (Array.isArray(v)) return v.map(normalize);
  if (v === null || typeof v !== 'object') return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) out[k] = normalize(x);
  const any = out.anyOf;
  if (Array.isArray(any) && any.length > 0 && any.every((s) => isConst(s))) {
    const values = any.map((s) => (s as JsonObject).const as Json);
    const types = new Set(values.map((x) => (x === null ? 'null' : typeof x)));
    delete out.anyOf;
    if (types.size === 1) out.type = [...types][0]!;
    out.enum = values;
  }
  return out;
}

function isConst(s: Json): boolean {
  return !!s && typeof s === 'object' && !Array.isArray(s) && 'const' in s && (typeof s.const === 'string' || typeof s.const === 'number');
}

function parameters(query: TObject): JsonObject[] {
  const required = new Set(query.required ?? []);
  return Object.entries(query.properties).map(([name, schema]) => {
    const s = toJsonSchema(schema);
    const description = typeof s.description === 'string' ? s.description : undefined;
    delete s.description;
    const p: JsonObject = { name, in: 'query', required: required.has(name), schema: s };
    if (description) p.description = description;
    return p;
  });
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

function errorResponse(description: string): JsonObject {
  return { description, content: { 'application/json': { schema: ERROR_REF } } };
}

function okContent(route: ApiRoute): JsonObject {
  const content: JsonObject = {};
  for (const type of route.produces) {
    content[type] = { schema: type === 'text/csv' ? { type: 'string', description: 'RFC 4180 CSV with a header row.' } : toJsonSchema(route.response) };
  }
  return content;
}

function operation(route: ApiRoute): JsonObject {
  const responses: JsonObject = {
    '200': { description: 'OK', content: okContent(route) },
  };
  if (route.headers) {
    (responses['200'] as JsonObject).headers = Object.fromEntries(
      Object.entries(route.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
    );
  }
  if (route.name !== 'docs') responses['400'] = errorResponse('Bad input: a parameter (or, for enrich, the body) outside its schema; `param` names it.');
  if (route.name === 'search' || route.name === 'export' || route.name === 'counts') {
    responses['404'] = errorResponse('`unknown_username`: a handle nobody knows.');
    responses['503'] = errorResponse('`query_timeout` (the query ran past QUERY_TIMEOUT_MS) or `handle_resolver_unavailable`.');
  }
  if (route.name === 'enrich') {
    responses['413'] = errorResponse('`payload_too_large`: the body exceeds FUNCTION_MAX_BODY_BYTES.');
    responses['415'] = errorResponse('`unsupported_media_type`: send application/x-ndjson or text/csv.');
  }
  responses['405'] = errorResponse('`method_not_allowed`.');
  const op: JsonObject = {
    operationId: route.name,
    summary: route.summary,
    description: route.description,
    tags: [route.name === 'enrich' ? 'import' : route.name === 'docs' ? 'meta' : 'query'],
    parameters: parameters(route.query),
    responses,
  };
  if (route.body) {
    op.requestBody = {
      required: true,
      description: route.body.description,
      content: Object.fromEntries(Object.entries(route.body.content).map(([type, c]) => [type, { schema: toJsonSchema(c.schema), example: c.example }])),
    };
  }
  return op;
}

export interface OpenApiOptions {
  /** Server URL (default `/function`: the gateway's function root on the host that served the document). */
  serverUrl?: string;
  version?: string;
}

/** The OpenAPI 3.1 document for `routes` (default: every registered route). */
export function buildOpenApiDocument(routes: readonly ApiRoute[] = API_ROUTES, opts: OpenApiOptions = {}): JsonObject {
  const paths: JsonObject = {};
  for (const route of routes) {
    const p = route.path ?? `/${route.name}`;
    const item = (paths[p] ??= {}) as JsonObject;
    item[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bluesky Post Explorer research API',
      version: opts.version ?? '0.1.0',
      description:
        'Text and feature queries over Bluesky posts captured from the Jetstream firehose, served as OpenFaaS functions at /function/<name>. Every error is `{"error":{"code","message","param"}}`. Interactive page: /function/docs.',
    },
    servers: [{ url: opts.serverUrl ?? '/function', description: 'The OpenFaaS gateway that served this document' }],
    tags: [
      { name: 'query', description: 'Read-only queries over posts.' },
      { name: 'import', description: 'Enrichment score imports.' },
      { name: 'meta', description: 'This documentation.' },
    ],
    paths,
    components: { schemas: { Error: toJsonSchema(errorSchema) } },
  };
}
