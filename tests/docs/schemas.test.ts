/**
 * The OpenAPI document's schemas are valid JSON Schema 2020-12 (what OpenAPI 3.1 uses; compiled by ajv in
 * strict mode) and describe the real answers: search, counts, export (NDJSON lines), enrich and error
 * bodies from functions served over HTTP validate against the document's own schemas.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import t from 'tap';
import { buildOpenApiDocument } from '../../shared/openapi/generate.js';
import { postRow, uriOf, writeRows } from '../api/fixture.js';
import { serveStack } from '../enrich/stack.js';
import { makeTestEnv } from '../helpers/env.js';

const doc = buildOpenApiDocument() as any;
const DID = 'did:plc:schemastestauthor0000000';

function compiler() {
  // OpenAPI's own keywords are not JSON Schema: `example` may sit in a media-type object, not in schemas.
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
  // Each component schema under its own id; `#/components/schemas/X` references point to it.
  for (const [name, schema] of Object.entries<object>(doc.components.schemas)) ajv.addSchema({ ...schema, $id: `components-${name}` });
  return (schema: object) => ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\/([A-Za-z0-9_]+)"/g, '"components-$1"')));
}

t.test('every schema compiles as JSON Schema 2020-12 (strict)', async (t) => {
  const compile = compiler();
  let n = 0;
  for (const item of Object.values<any>(doc.paths)) {
    for (const op of Object.values<any>(item)) {
      for (const p of op.parameters) (compile(p.schema), n++);
      for (const r of Object.values<any>(op.responses)) for (const c of Object.values<any>(r.content ?? {})) (compile(c.schema), n++);
      for (const c of Object.values<any>(op.requestBody?.content ?? {})) (compile(c.schema), n++);
    }
  }
  t.ok(n > 50, `${n} schemas compiled`);
  // The enrich NDJSON example validates line by line against the row schema.
  const row = compile(doc.paths['/enrich'].post.requestBody.content['application/x-ndjson'].schema);
  for (const line of String(doc.paths['/enrich'].post.requestBody.content['application/x-ndjson'].example).trim().split('\n')) {
    t.ok(row(JSON.parse(line)), `example row valid: ${JSON.stringify(row.errors)}`);
  }
  t.notOk(row({ uri: uriOf(DID, 'x'), toxicity_score: 1.5 }), 'a value above 1 is invalid by the schema too');
  t.notOk(row({ uri: uriOf(DID, 'x'), hate: 0.5 }), 'an unknown feature is invalid by the schema too');
});

t.test('real answers validate against the documented schemas', async (t) => {
  const env = await makeTestEnv(t);
  await writeRows(env.cfg.storage.parquetDir, 'posts', [
    postRow({ did: DID, rkey: '3lsch1', text: 'a "quoted", post\nwith a line break', at: '2026-07-01T10:00:00Z', langs: ['en'], hashtags: ['tag'], hasMedia: true }),
    postRow({ did: DID, rkey: '3lsch2', text: 'a reply', at: '2026-07-01T11:00:00Z', replyTo: uriOf(DID, '3lsch1') }),
  ]);
  const { base } = await serveStack(t, env, ['search', 'export', 'counts', 'enrich']);
  const compile = compiler();
  const schemaOf = (p: string, method: string, status: string, type = 'application/json') => compile(doc.paths[p][method].responses[status].content[type].schema);
  const check = (what: string, validate: ReturnType<typeof compile>, value: unknown) => t.ok(validate(value), `${what}: ${JSON.stringify(validate.errors)}`);

  const enrich = await fetch(`${base}/function/enrich`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: `{"uri":"${uriOf(DID, '3lsch1')}","toxicity_score":0.4,"model":"m"}\n{"uri":"bad"}\n`,
  });
  check('enrich 200', schemaOf('/enrich', 'post', '200'), await enrich.json());

  const search = (await (await fetch(`${base}/function/search?limit=1`)).json()) as any;
  t.equal(search.data.length, 1);
  t.type(search.meta.next_cursor, 'string');
  check('search page 1', schemaOf('/search', 'get', '200'), search);
  const page2 = await (await fetch(`${base}/function/search?limit=1&cursor=${encodeURIComponent(search.meta.next_cursor)}`)).json();
  check('search page 2 (features present)', schemaOf('/search', 'get', '200'), page2);
  t.equal((page2 as any).data[0].features.toxicity_score, 0.4);

  check('counts', schemaOf('/counts', 'get', '200'), await (await fetch(`${base}/function/counts?granularity=hour&feature=toxicity_score`)).json());
  const lines = (await (await fetch(`${base}/function/export?format=ndjson`)).text()).trim().split('\n');
  t.equal(lines.length, 2);
  const line = schemaOf('/export', 'get', '200', 'application/x-ndjson');
  for (const l of lines) check('export line', line, JSON.parse(l));

  const error = compile(doc.components.schemas.Error);
  check('search 400', error, await (await fetch(`${base}/function/search?limit=0`)).json());
  check('enrich 415', error, await (await fetch(`${base}/function/enrich`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).json());
});
