/**
 * Admission control: at most QUERY_CONCURRENCY queries run per function process, the rest wait in a
 * bounded FIFO queue; a full queue or a long wait is a 503 `overloaded`, a client that leaves stops
 * waiting, and no slot is ever lost.
 */
import t from 'tap';
import { AdmissionGate } from '../../shared/api/admission.js';
import { apiMetrics } from '../../shared/api/metrics.js';
import { createQueryApi } from '../../shared/api/service.js';
import { createContext } from '../../shared/context.js';
import { toErrorResponse } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { makeTestEnv } from '../helpers/env.js';
import { POSTS, uri, writeDataset } from './dataset.js';

const codeOf = (err: unknown) => {
  const { status, body } = toErrorResponse(err);
  return `${status} ${body.error.code}`;
};

t.test('the gate admits up to its concurrency and hands slots over in arrival order', async (t) => {
  const seen: string[] = [];
  const gate = new AdmissionGate({ concurrency: 2, queueMax: 10, queueTimeoutMs: 10_000, onChange: (r, w) => seen.push(`${r}/${w}`) });
  const a = await gate.acquire();
  const b = await gate.acquire();
  const order: string[] = [];
  const c = gate.acquire().then((rel) => (order.push('c'), rel));
  const d = gate.acquire().then((rel) => (order.push('d'), rel));
  await new Promise((r) => setImmediate(r));
  t.same([gate.active, gate.queued], [2, 2], 'two run, two wait');
  t.same(order, [], 'nobody admitted beyond the concurrency');
  a();
  a(); // a second call of the same release is a no-op: it must not free another slot
  const relC = await c;
  t.same(order, ['c'], 'the first waiter gets the first free slot');
  t.same([gate.active, gate.queued], [2, 1]);
  b();
  const relD = await d;
  t.same(order, ['c', 'd']);
  relC();
  relD();
  t.same([gate.active, gate.queued], [0, 0], 'every slot is back');
  t.same(seen, ['1/0', '2/0', '2/1', '2/2', '2/1', '2/0', '1/0', '0/0'], 'the gauge callback saw every change');
});

t.test('a full queue answers at once, a long wait times out, a leaving client stops waiting', async (t) => {
  const gate = new AdmissionGate({ concurrency: 1, queueMax: 1, queueTimeoutMs: 100 });
  const held = await gate.acquire();
  const waiting = gate.acquire().catch((e: unknown) => e);
  t.equal(codeOf(await gate.acquire().catch((e: unknown) => e)), '503 overloaded', 'queue full: refused at once');
  const started = Date.now();
  t.equal(codeOf(await waiting), '503 overloaded', 'waited past QUERY_QUEUE_TIMEOUT_MS');
  t.ok(Date.now() - started >= 90, 'it did wait for the timeout');
  t.equal(gate.queued, 0, 'the timed-out waiter left the queue');

  const ac = new AbortController();
  const leaving = gate.acquire(ac.signal).catch((e: unknown) => e);
  ac.abort();
  t.equal(codeOf(await leaving), '499 client_closed');
  t.equal(gate.queued, 0);
  held();
  t.equal(gate.active, 0, 'the holder released; no slot leaked to the waiters that left');
  const again = await gate.acquire();
  t.equal(gate.active, 1);
  again();
});

t.test('a query function holds its slot while an export streams; the next search waits for it, then runs', async (t) => {
  const env = await makeTestEnv(t, { QUERY_CONCURRENCY: '1', QUERY_QUEUE_MAX: '1', QUERY_QUEUE_TIMEOUT_MS: '20000', ROW_LIMIT_ENABLED: 'false' });
  await writeDataset(env.cfg.storage.parquetDir);
  const ctx = await createContext(env.cfg, 'test:admission', { log: createLogger('test', { level: 'silent' }) });
  t.teardown(() => ctx.destroy());
  const api = createQueryApi({ cfg: env.cfg, duckdb: ctx.duckdb, redis: ctx.redis, keys: ctx.keys, log: ctx.log, metrics: apiMetrics(), functionName: 'test' });

  const exp = await api.exportPosts({ format: 'ndjson' });
  t.equal(api.gate.active, 1, 'the unread export stream holds the only slot');
  let searched = false;
  const search = api.search({ text: 'hello world', sort: 'oldest' }).then((r) => ((searched = true), r));
  t.equal(codeOf(await api.counts({}).catch((e: unknown) => e)), '503 overloaded', 'with one waiter already queued, a third request is refused');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(searched, false, 'the search waits while the export holds the slot');

  let text = '';
  for await (const piece of exp.body) text += piece;
  const exported = text.trim().split('\n').map((l) => (JSON.parse(l) as { uri: string }).uri);
  t.same(
    exported.sort(),
    Object.keys(POSTS).filter((k) => k !== 'p7').map(uri).sort(),
    'the export finished: every post once, the deleted p7 absent',
  );
  const res = await search;
  const body = JSON.parse(res.body as string) as { data: { text: string }[] };
  t.same(
    body.data.map((p) => p.text),
    [POSTS.p1!.text, POSTS.p2!.text, POSTS.p4!.text, POSTS.p6!.text],
    'the search then ran and answered exactly',
  );
  t.equal(api.gate.active, 0, 'both slots released');
});

t.test('an export left after its first run (a run in flight) stops it and frees its slot', async (t) => {
  // Runs of 2 NDJSON rows (four fifths of EXPORT_RUN_ROWS=3, rounded down).
  const env = await makeTestEnv(t, { QUERY_CONCURRENCY: '1', ROW_LIMIT_ENABLED: 'false', EXPORT_RUN_ROWS: '3' });
  await writeDataset(env.cfg.storage.parquetDir);
  const ctx = await createContext(env.cfg, 'test:admission', { log: createLogger('test', { level: 'silent' }) });
  t.teardown(() => ctx.destroy());
  const api = createQueryApi({ cfg: env.cfg, duckdb: ctx.duckdb, redis: ctx.redis, keys: ctx.keys, log: ctx.log, metrics: apiMetrics(), functionName: 'test' });

  const exp = await api.exportPosts({ format: 'ndjson', sort: 'oldest' });
  const it = exp.body[Symbol.asyncIterator]();
  const first = await it.next();
  t.same(
    String(first.value).trim().split('\n').map((l) => (JSON.parse(l) as { uri: string }).uri),
    [uri('p9'), uri('p1')],
    'the first run: the two oldest posts',
  );
  t.equal(api.gate.active, 1, 'the export holds its slot, the next run being rendered');
  await it.return?.(undefined);
  t.equal(api.gate.active, 0, 'leaving stopped the run in flight and freed the slot');
  const res = await api.search({ username: 'bob.test', sort: 'oldest' });
  t.same(
    (JSON.parse(res.body as string) as { data: { uri: string }[] }).data.map((p) => p.uri),
    [uri('p3'), uri('p4'), uri('p8')],
    'the process answers the next query normally',
  );
});
