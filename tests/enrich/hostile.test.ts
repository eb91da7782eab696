/**
 * Property: whatever body, Content-Type and query an enrich request carries, the answer is a 200 with
 * consistent counts or a 4xx with the error shape — never a 500. Bodies mix valid rows with hostile
 * values (huge numbers, NaN text, odd Unicode, stray quotes, unknown columns).
 */
import fc from 'fast-check';
import t from 'tap';
import { makeTestEnv } from '../helpers/env.js';
import { serveStack } from './stack.js';

const URI = 'at://did:plc:hostile00000000000000000/app.bsky.feed.post/3lhostile';

const value = fc.oneof(
  fc.double(),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.string(),
  fc.constantFrom('NaN', 'Infinity', '-0', '1e400', '', ' ', '"', '0.5', null, true, [], {}),
);
const key = fc.oneof(fc.constantFrom('uri', 'toxicity_score', 'political_score', 'perspective_threat', 'model', 'scored_at'), fc.string({ maxLength: 12 }));
const row = fc.dictionary(key, fc.oneof(value, fc.constant(URI), fc.constantFrom('2026-07-01T00:00:00Z', '2999-01-01T00:00:00Z', 'not a date')), { maxKeys: 5 });
const ndjsonLine = fc.oneof(
  row.map((r) => JSON.stringify(r)),
  fc.string({ maxLength: 40 }),
  fc.constant(JSON.stringify({ uri: URI, toxicity_score: 0.5 })),
);
const csvCell = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(URI, '0.3', '"q""x"', '"open', ''));
const csvBody = fc
  .tuple(
    fc.subarray(['uri', 'toxicity_score', 'model', 'scored_at', 'bogus'], { minLength: 1 }),
    fc.array(fc.array(csvCell, { maxLength: 6 }), { maxLength: 6 }),
    fc.constantFrom('\n', '\r\n'),
  )
  .map(([header, rows, eol]) => [header.join(','), ...rows.map((r) => r.join(','))].join(eol));

t.test('hostile enrich requests: never a 500', async (t) => {
  const env = await makeTestEnv(t);
  const { base } = await serveStack(t, env, ['enrich'], { maxBodyBytes: 20_000 });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.record({ type: fc.constantFrom('application/x-ndjson', 'application/jsonl'), body: fc.array(ndjsonLine, { maxLength: 8 }).map((l) => l.join('\n')) }),
        fc.record({ type: fc.constant('text/csv'), body: csvBody }),
        fc.record({ type: fc.constantFrom('application/json', 'text/plain', '', 'text/csv; charset=latin1'), body: fc.string({ maxLength: 50 }) }),
      ),
      fc.constantFrom('', '?dry_run=true', '?dry_run=yes', '?x=1', '?dry_run=true&dry_run=false'),
      async (req, query) => {
        const headers: Record<string, string> = req.type ? { 'content-type': req.type } : {};
        const res = await fetch(`${base}/function/enrich${query}`, { method: 'POST', headers, body: req.body });
        const json = (await res.json()) as any;
        if (res.status === 200) {
          return Number.isInteger(json.accepted) && Number.isInteger(json.rejected) && json.errors.length === Math.min(json.rejected, 100);
        }
        return [400, 413, 415].includes(res.status) && typeof json.error.code === 'string' && typeof json.error.message === 'string';
      },
    ),
    { numRuns: 200 },
  );
  t.pass('200 random requests answered 200/400/413/415 with the documented shapes');
});
