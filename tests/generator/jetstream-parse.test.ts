import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJetstreamEvent, validateJetstreamEvent, type JetstreamEvent } from '../../shared/jetstream/index.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const lines = (name: string) => readFileSync(path.join(fixtures, name), 'utf8').split('\n').filter(Boolean);

t.test('every captured real event and every golden event parses', async (t) => {
  for (const name of ['jetstream-real-152.jsonl', 'jetstream-golden-10.jsonl']) {
    const all = lines(name);
    const failures = all.map((l) => parseJetstreamEvent(l)).filter((r) => !r.ok);
    t.same(failures, [], `${name}: no failures`);
    t.equal(all.length, name.includes('152') ? 152 : 10);
  }
});

t.test('the golden file has one event of each kind and operation, narrowed by the union', async (t) => {
  const seen = new Set<string>();
  for (const line of lines('jetstream-golden-10.jsonl')) {
    const r = parseJetstreamEvent(line);
    if (!r.ok) throw new Error(r.reason);
    const e: JetstreamEvent = r.event;
    switch (e.kind) {
      case 'commit':
        seen.add(`commit:${e.commit.operation}`);
        if (e.commit.operation !== 'delete') t.type(e.commit.record.$type, 'string');
        break;
      case 'identity':
        seen.add('identity');
        t.match(e.identity.did, /^did:/);
        break;
      case 'account':
        seen.add('account');
        t.type(e.account.active, 'boolean');
        break;
      default: {
        const never: never = e;
        throw new Error(`unexpected ${String(never)}`);
      }
    }
  }
  t.same([...seen].sort(), ['account', 'commit:create', 'commit:delete', 'commit:update', 'identity']);
});

t.test('bad lines are refused with a reason naming the field', async (t) => {
  const good = JSON.parse(lines('jetstream-golden-10.jsonl')[0] as string) as Record<string, unknown>;
  const commit = good.commit as Record<string, unknown>;
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['not JSON', '{"did":', /^invalid JSON/],
    ['array', '[1,2]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['unknown kind', JSON.stringify({ ...good, kind: 'info' }), /^\/kind: unknown kind "info"/],
    ['missing commit', JSON.stringify({ ...good, commit: undefined }), /^\/commit: missing/],
    ['unknown operation', JSON.stringify({ ...good, commit: { ...commit, operation: 'upsert' } }), /^\/commit\/operation: unknown operation "upsert"/],
    ['create without record', JSON.stringify({ ...good, commit: { ...commit, record: undefined } }), /^\/commit\/record/],
    ['create without cid', JSON.stringify({ ...good, commit: { ...commit, cid: undefined } }), /^\/commit\/cid/],
    ['record without $type', JSON.stringify({ ...good, commit: { ...commit, record: { text: 'x' } } }), /^\/commit\/record\/\$type/],
    ['time_us as string', JSON.stringify({ ...good, time_us: '1779719009132431' }), /^\/time_us/],
    ['time_us fractional', JSON.stringify({ ...good, time_us: 1.5 }), /^\/time_us/],
    ['bad did', JSON.stringify({ ...good, did: 'alice' }), /^\/did/],
    ['identity without seq', '{"did":"did:plc:abc","time_us":1,"kind":"identity","identity":{"did":"did:plc:abc","time":"x"}}', /^\/identity\/seq/],
    ['account without active', '{"did":"did:plc:abc","time_us":1,"kind":"account","account":{"did":"did:plc:abc","seq":1,"time":"x"}}', /^\/account\/active/],
  ];
  for (const [name, line, reason] of cases) {
    const r = parseJetstreamEvent(line);
    t.equal(r.ok, false, name);
    if (!r.ok) t.match(r.reason, reason, name);
  }
});

t.test('deletes carry no record; extra unknown fields are accepted; bytes are accepted', async (t) => {
  const del = '{"did":"did:plc:3xnadku4kemqnycbweqnvgzx","time_us":1779719009153272,"kind":"commit","commit":{"rev":"3mmoojpae7c2e","operation":"delete","collection":"org.hypercerts.claim.activity","rkey":"3mmontn3gnc2e"}}';
  const r = parseJetstreamEvent(Buffer.from(del));
  t.ok(r.ok);
  if (r.ok && r.event.kind === 'commit') t.equal(r.event.commit.operation, 'delete');
  const extra = JSON.parse(del) as Record<string, unknown>;
  extra.future_field = { x: 1 };
  t.ok(validateJetstreamEvent(extra).ok);
  const acct = '{"did":"did:plc:abc","time_us":5,"kind":"account","account":{"active":false,"did":"did:plc:abc","seq":9,"status":"takendown","time":"2026-01-01T00:00:00.000Z"}}';
  const a = parseJetstreamEvent(acct);
  t.ok(a.ok);
  if (a.ok && a.event.kind === 'account') t.equal(a.event.account.status, 'takendown');
});
