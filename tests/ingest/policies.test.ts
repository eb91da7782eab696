/** Pure policies of the ingest daemon: event scanning, backoff, cursor rewind, gap decision, URLs, metrics labels. */
import t from 'tap';
import fc from 'fast-check';
import { backoffDelay } from '../../shared/ingest/backoff.js';
import { parseCursor, resumeCursor } from '../../shared/ingest/cursor.js';
import { scanEvent } from '../../shared/ingest/event-scan.js';
import { detectGap } from '../../shared/ingest/gap.js';
import { nextUrlIndex, subscribeUrl } from '../../shared/ingest/jetstream-client.js';
import { classifyWriteError } from '../../shared/ingest/stream-writer.js';
import { EventTally, ingestMetrics } from '../../shared/ingest/metrics.js';
import { renderMetrics } from '../../shared/metrics.js';
import { realEvents } from './helpers.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const golden = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/jetstream-golden-10.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean);

function parsed(line: string) {
  const o = JSON.parse(line) as { time_us?: unknown; kind?: unknown; commit?: { collection?: string } };
  return { timeUs: o.time_us, kind: o.kind, collection: o.kind === 'commit' ? o.commit?.collection : undefined };
}

t.test('scanEvent agrees with JSON.parse on every real and golden event', async (t) => {
  const lines = [...realEvents(), ...golden];
  t.equal(lines.length, 162);
  for (const line of lines) t.same(scanEvent(Buffer.from(line)), parsed(line), line.slice(0, 80));
});

t.test('scanEvent never takes a nested or quoted time_us', async (t) => {
  const cases: [string, number | undefined][] = [
    ['{"did":"did:plc:a","record":{"time_us":5},"time_us":7}', 7],
    ['{"did":"x \\"time_us\\":5","time_us":8}', 8],
    ['{"x\\"time_us":5,"time_us":9}', 9],
    ['{"list":[{"time_us":1}],"time_us":10}', 10],
    ['{"did":"a","time_us":"12"}', undefined],
    ['{"did":"a","time_us":1.5}', undefined],
    ['{"did":"a","time_us":12', undefined], // truncated: JSON.parse fails
    ['not json', undefined],
    ['[{"time_us":3}]', undefined],
    ['{"did":"a","time_us": 13 ,"kind":"identity"}', 13],
    ['{"did":"a","time_us":012}', undefined],
    ['{"did":"a","time_us":99999999999999999}', undefined],
  ];
  for (const [line, want] of cases) t.equal(scanEvent(Buffer.from(line)).timeUs, want, line);
});

t.test('scanEvent equals JSON.parse on arbitrary objects with a time_us somewhere', async () => {
  const obj = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
  fc.assert(
    fc.property(obj, fc.nat({ max: 2 ** 52 }), obj, (a, time, b) => {
      delete a.time_us;
      delete b.time_us;
      const line = JSON.stringify({ ...a, time_us: time, ...b });
      if (scanEvent(Buffer.from(line)).timeUs !== time) throw new Error(line);
    }),
    { numRuns: 300 },
  );
});

t.test('scanEvent equals JSON.parse on Jetstream-shaped events (did, time_us, kind first) with any content', async () => {
  const rest = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
  const kind = fc.oneof(fc.constantFrom('commit', 'identity', 'account'), fc.string({ maxLength: 10 }));
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.nat({ max: 2 ** 52 }), kind, fc.string({ maxLength: 30 }), rest, (did, time, k, coll, r) => {
      for (const key of ['did', 'time_us', 'kind', 'commit']) delete r[key];
      const ev = { did, time_us: time, kind: k, ...(k === 'commit' ? { commit: { rev: 'x', operation: 'create', collection: coll, record: r } } : r) };
      const line = JSON.stringify(ev);
      const got = scanEvent(Buffer.from(line));
      const want = parsed(line);
      if (got.timeUs !== want.timeUs) throw new Error(`time ${line}`);
      if (got.kind !== undefined && got.kind !== want.kind) throw new Error(`kind ${line}`);
      if (got.collection !== undefined && got.collection !== want.collection) throw new Error(`collection ${line}`);
    }),
    { numRuns: 500 },
  );
});

t.test('backoff: exponential ceiling with full jitter and a cap', async (t) => {
  const p = { baseMs: 100, maxMs: 5000 };
  t.equal(backoffDelay(0, p, () => 0.999999), 99);
  t.equal(backoffDelay(3, p, () => 0.5), 400);
  t.equal(backoffDelay(10, p, () => 0.5), 2500);
  t.equal(backoffDelay(1000, p, () => 0.999999), 4999);
  t.equal(backoffDelay(5, p, () => 0), 0);
  fc.assert(
    fc.property(fc.nat({ max: 100 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (n, r) => {
      const d = backoffDelay(n, p, () => r);
      return d >= 0 && d < Math.min(p.maxMs, p.baseMs * 2 ** Math.min(n, 30)) + 1;
    }),
  );
});

t.test('cursor: rewind on resume, none when nothing was written', async (t) => {
  t.equal(resumeCursor(undefined, 5), undefined);
  t.equal(resumeCursor(1_783_175_888_085_434, 5), 1_783_175_883_085_434);
  t.equal(resumeCursor(1_000_000, 5), 0);
  t.equal(resumeCursor(42, 0), 42);
  t.equal(parseCursor('1783175888085434'), 1_783_175_888_085_434);
  t.equal(parseCursor(null), undefined);
  t.equal(parseCursor('-1'), undefined);
  t.equal(parseCursor('12abc'), undefined);
  t.equal(parseCursor('99999999999999999'), undefined);
});

t.test('gap: only when the first event is later than the rewind window allows', async (t) => {
  const base = { rewindUs: 5_000_000, toleranceUs: 1_000_000 };
  t.equal(detectGap({ ...base, lastWrittenUs: undefined, firstUs: 10 }), null);
  t.equal(detectGap({ ...base, lastWrittenUs: 100_000_000, firstUs: undefined }), null);
  t.equal(detectGap({ ...base, lastWrittenUs: 100_000_000, firstUs: 95_000_000 }), null, 'normal resume at the rewound cursor');
  t.equal(detectGap({ ...base, lastWrittenUs: 100_000_000, firstUs: 106_000_000 }), null, 'exactly at the limit');
  t.same(detectGap({ ...base, lastWrittenUs: 100_000_000, firstUs: 106_000_001 }), { start_us: 100_000_000, end_us: 106_000_001 });
});

t.test('subscribe URL carries filters and cursor; failover moves on only from an endpoint that gave nothing', async (t) => {
  t.equal(
    subscribeUrl('ws://h:1/subscribe', { wantedCollections: ['app.bsky.feed.post', 'app.bsky.graph.*'], wantedDids: ['did:plc:a'], cursor: 123 }),
    'ws://h:1/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.graph.*&wantedDids=did%3Aplc%3Aa&cursor=123',
  );
  t.equal(subscribeUrl('wss://h/subscribe', { wantedCollections: [], wantedDids: [], cursor: undefined }), 'wss://h/subscribe');
  t.equal(nextUrlIndex(0, 2, false), 1);
  t.equal(nextUrlIndex(1, 2, false), 0);
  t.equal(nextUrlIndex(1, 2, true), 1);
  t.equal(nextUrlIndex(0, 1, false), 0);
});

t.test('write errors: OOM drops, anything else retries', async (t) => {
  t.equal(classifyWriteError(new Error("OOM command not allowed when used memory > 'maxmemory'.")), 'oom');
  t.equal(classifyWriteError(new Error("ERR Error running script (call to f_x): @user_script:7: -OOM command not allowed")), 'oom');
  t.equal(classifyWriteError(new Error('Connection is closed.')), 'transient');
  t.equal(classifyWriteError(new Error('READONLY You can\'t write against a read only replica.')), 'transient');
  t.equal(classifyWriteError(new Error('ZOOMED')), 'transient');
});

t.test('event metrics: labels bounded (64 collections, then "other"; junk is "unknown")', async (t) => {
  const tally = new EventTally();
  for (let i = 0; i < 70; i++) tally.add('commit', `com.example.c${i}`, 10);
  tally.add('commit', 'com.example.c0', 10);
  tally.add('commit', 'not an nsid', 10);
  tally.add('identity', undefined, 5);
  tally.add('weird', undefined, 5);
  tally.add(undefined, undefined, 5);
  tally.flushTo(ingestMetrics());
  const text = (await renderMetrics()).body;
  const series = text.split('\n').filter((l) => l.startsWith('ingest_events_total{'));
  t.equal(series.length, 64 + 1 + 1 + 3);
  t.ok(series.includes('ingest_events_total{kind="commit",collection="com.example.c0"} 2'));
  t.ok(series.includes('ingest_events_total{kind="commit",collection="other"} 6'));
  t.ok(series.includes('ingest_events_total{kind="commit",collection="unknown"} 1'));
  t.ok(series.includes('ingest_events_total{kind="identity",collection=""} 1'));
  t.ok(series.includes('ingest_events_total{kind="other",collection=""} 1'));
  t.ok(series.includes('ingest_events_total{kind="unknown",collection=""} 1'));
  t.ok(text.includes('ingest_bytes_total 735'));
});
