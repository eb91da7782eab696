/** Batch reading: one source per batch, chunked requests, own pending before claims before new entries. */
import tap from 'tap';
import { ackAndDelete, ensureGroup, nextBatch, type StreamEntry } from '../../shared/flush/stream.js';
import { makeTestEnv } from '../helpers/env.js';

tap.test('chunked reads with a request in flight stop at the batch size and keep stream order', async (t) => {
  const env = await makeTestEnv(t);
  const stream = `${env.prefix}events`;
  await ensureGroup(env.redis, stream, 'flush');
  await ensureGroup(env.redis, stream, 'flush'); // idempotent
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push((await env.redis.xadd(stream, '*', 'e', `{"n":${i}}`))!);
  await env.redis.xadd(stream, '*', 'other', 'field');

  const opts = { stream, group: 'flush', consumer: 'c1', batchSize: 7, claimIdleMs: 60_000, chunk: 3 };
  const chunks: StreamEntry[][] = [];
  const b1 = await nextBatch(env.redis, opts, async (e) => void chunks.push(e));
  t.match(b1, { source: 'new', count: 7, orphanIds: [] });
  t.same(chunks.map((c) => c.length), [3, 3, 1]);
  t.same(chunks.flat().map((e) => e.id), ids.slice(0, 7));
  t.same(chunks.flat().map((e) => e.raw?.toString()), [0, 1, 2, 3, 4, 5, 6].map((n) => `{"n":${n}}`));

  // Not acknowledged: the same consumer gets the same 7 back first (its own crashed run).
  const again: StreamEntry[] = [];
  const b2 = await nextBatch(env.redis, opts, async (e) => void again.push(...e));
  t.match(b2, { source: 'own_pending', count: 7 });
  t.same(again.map((e) => e.id), ids.slice(0, 7));
  await ackAndDelete(env.redis, stream, 'flush', ids.slice(0, 7));

  const rest: StreamEntry[] = [];
  const b3 = await nextBatch(env.redis, opts, async (e) => void rest.push(...e));
  t.match(b3, { source: 'new', count: 4 });
  t.same(rest.slice(0, 3).map((e) => e.id), ids.slice(7));
  t.equal(rest[3]!.raw, undefined, 'an entry without field e is delivered without raw');
  await ackAndDelete(env.redis, stream, 'flush', rest.map((e) => e.id));
  t.equal(await nextBatch(env.redis, opts, async () => undefined), undefined, 'nothing left');
  t.equal(await env.redis.xlen(stream), 0);
});

tap.test('pending entries deleted from the stream are acknowledged as orphans', async (t) => {
  const env = await makeTestEnv(t);
  const stream = `${env.prefix}events`;
  await ensureGroup(env.redis, stream, 'flush');
  const a = (await env.redis.xadd(stream, '*', 'e', '{}'))!;
  const b = (await env.redis.xadd(stream, '*', 'e', '{}'))!;
  await env.redis.xreadgroup('GROUP', 'flush', 'c1', 'COUNT', 10, 'STREAMS', stream, '>');
  await env.redis.xdel(stream, a);
  const got: StreamEntry[] = [];
  const batch = await nextBatch(env.redis, { stream, group: 'flush', consumer: 'c1', batchSize: 10, claimIdleMs: 60_000 }, async (e) => void got.push(...e));
  t.match(batch, { source: 'own_pending', count: 1, orphanIds: [a] });
  t.same(got.map((e) => e.id), [b]);
});

tap.test('the ack trims the stream only up to entries nobody still has pending; otherwise it deletes by ID', async (t) => {
  const env = await makeTestEnv(t);
  const stream = `${env.prefix}events`;
  await ensureGroup(env.redis, stream, 'flush');
  const ids: string[] = [];
  for (let i = 0; i < 9; i++) ids.push((await env.redis.xadd(stream, '*', 'e', `{"n":${i}}`))!);
  const read = async (consumer: string, count: number) => {
    const got: StreamEntry[] = [];
    await nextBatch(env.redis, { stream, group: 'flush', consumer, batchSize: count, claimIdleMs: 60_000 }, async (e) => void got.push(...e));
    return got.map((e) => e.id);
  };
  // A dead pod holds entries 0-2; this consumer flushes 3-5: they are deleted one by one, 0-2 stay.
  t.same(await read('dead', 3), ids.slice(0, 3));
  t.same(await read('live', 3), ids.slice(3, 6));
  await ackAndDelete(env.redis, stream, 'flush', ids.slice(3, 6));
  const left = async () => (await env.redis.xrange(stream, '-', '+')).map(([id]) => id);
  t.same(await left(), [...ids.slice(0, 3), ...ids.slice(6)], 'the older pending entries are kept');
  t.equal(Number((await env.redis.xpending(stream, 'flush'))[0]), 3);
  // Once they are acknowledged (claimed and flushed), the ack of 6-7 trims everything up to 7 at once.
  await ackAndDelete(env.redis, stream, 'flush', ids.slice(0, 3));
  t.same(await read('live', 2), ids.slice(6, 8));
  await ackAndDelete(env.redis, stream, 'flush', ids.slice(6, 8));
  t.same(await left(), [ids[8]], 'entry 8, never read, is kept');
  t.equal(Number((await env.redis.xpending(stream, 'flush'))[0]), 0);
});
