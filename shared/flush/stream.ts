/**
 * Reading the event stream through the flush's consumer group. A batch is taken from one source only,
 * in this order: entries this consumer was given and never acknowledged (its own crashed run), entries
 * idle for too long at another consumer (a dead pod), then new entries. Re-reading a crashed batch
 * therefore yields the same entries, hence the same deterministic file names.
 */
import type { Redis } from 'ioredis';

/** One stream entry: its ID and the raw Jetstream JSON bytes (undefined when field `e` is missing). */
export interface StreamEntry {
  id: string;
  raw: Buffer | undefined;
}

export type BatchSource = 'own_pending' | 'claimed' | 'new';

export interface StreamBatch {
  source: BatchSource;
  /** Entries handed to the sink. */
  count: number;
  /** IDs still pending but already deleted from the stream: nothing to write, only to acknowledge. */
  orphanIds: string[];
}

/** Receives a batch's entries chunk by chunk, in stream order (the flush writes them to its line file). */
export type EntrySink = (entries: StreamEntry[], source: BatchSource) => Promise<void>;

/** Most entries requested per Redis round trip (keeps replies and memory spikes bounded). */
const CHUNK = 20_000;

// Replies are read as Buffers: ioredis parses them about twice as fast as strings, and the bytes go
// to DuckDB's input file as they are.
type RawEntry = [id: Buffer, fields: Buffer[] | null];

function isFieldE(b: Buffer | undefined): boolean {
  return b !== undefined && b.length === 1 && b[0] === 0x65;
}

function toEntry([id, fields]: RawEntry): StreamEntry {
  let raw: Buffer | undefined;
  if (fields) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (isFieldE(fields[i])) {
        raw = fields[i + 1];
        break;
      }
    }
  }
  return { id: id.toString('latin1'), raw };
}

/** Creates the consumer group (and the stream) if missing; the group starts at the stream's beginning. */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err;
  }
}

async function readGroup(redis: Redis, stream: string, group: string, consumer: string, count: number, from: string): Promise<RawEntry[]> {
  const reply = (await redis.xreadgroupBuffer('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, from)) as
    | [Buffer, RawEntry[]][]
    | null;
  return reply?.[0]?.[1] ?? [];
}

/** This consumer's own unacknowledged entries (from a run that crashed), up to `max`. */
async function readOwnPending(redis: Redis, stream: string, group: string, consumer: string, max: number, chunk: number, sink: EntrySink): Promise<StreamBatch> {
  const batch: StreamBatch = { source: 'own_pending', count: 0, orphanIds: [] };
  let after = '0';
  while (batch.count + batch.orphanIds.length < max) {
    const want = Math.min(chunk, max - batch.count - batch.orphanIds.length);
    const got = await readGroup(redis, stream, group, consumer, want, after);
    const entries: StreamEntry[] = [];
    for (const e of got) {
      if (e[1] === null) batch.orphanIds.push(e[0].toString('latin1'));
      else entries.push(toEntry(e));
    }
    await deliver(batch, entries, sink);
    if (got.length < want) break;
    after = got[got.length - 1]![0].toString('latin1');
  }
  return batch;
}

/** Entries pending at other consumers for at least `minIdleMs`, transferred to us (XAUTOCLAIM). */
async function claimStale(redis: Redis, stream: string, group: string, consumer: string, minIdleMs: number, max: number, chunk: number, sink: EntrySink): Promise<StreamBatch> {
  const batch: StreamBatch = { source: 'claimed', count: 0, orphanIds: [] };
  let cursor = '0-0';
  do {
    const want = Math.min(chunk, max - batch.count);
    const reply = (await redis.callBuffer('XAUTOCLAIM', stream, group, consumer, String(minIdleMs), cursor, 'COUNT', String(want))) as [Buffer, RawEntry[], Buffer[]?];
    cursor = reply[0].toString('latin1');
    const entries: StreamEntry[] = [];
    for (const e of reply[1]) {
      if (e[1] === null) batch.orphanIds.push(e[0].toString('latin1'));
      else entries.push(toEntry(e));
    }
    await deliver(batch, entries, sink);
    // Redis ≥ 7 drops deleted entries from the PEL itself and reports them here: nothing to acknowledge.
  } while (cursor !== '0-0' && batch.count < max);
  return batch;
}

/**
 * New entries never delivered to any consumer, up to `max`. Two requests are kept in flight, so Redis
 * prepares the next chunk while this process parses the current one.
 */
async function readNew(redis: Redis, stream: string, group: string, consumer: string, max: number, chunk: number, sink: EntrySink): Promise<StreamBatch> {
  const batch: StreamBatch = { source: 'new', count: 0, orphanIds: [] };
  let requested = 0;
  const request = () => {
    const want = Math.min(chunk, max - requested);
    requested += want;
    return { want, reply: readGroup(redis, stream, group, consumer, want, '>') };
  };
  let current: ReturnType<typeof request> | undefined = request();
  while (current) {
    const next = requested < max ? request() : undefined;
    const got = await current.reply;
    await deliver(batch, got.map(toEntry), sink);
    if (got.length < current.want) {
      // Drained; what the prefetched request got is ours now (pending to us): keep it in this batch.
      if (next) await deliver(batch, (await next.reply).map(toEntry), sink);
      break;
    }
    current = next;
  }
  return batch;
}

async function deliver(batch: StreamBatch, entries: StreamEntry[], sink: EntrySink): Promise<void> {
  if (entries.length === 0) return;
  batch.count += entries.length;
  await sink(entries, batch.source);
}

export interface ReadOptions {
  stream: string;
  group: string;
  consumer: string;
  batchSize: number;
  claimIdleMs: number;
  /** Entries per Redis request (default 20,000; tests use small values). */
  chunk?: number;
}

/**
 * Reads the next batch, handing its entries to `sink` chunk by chunk; undefined when there is nothing
 * to do. Only one source feeds a batch, so nothing reaches the sink from a source that is not chosen.
 */
export async function nextBatch(redis: Redis, o: ReadOptions, sink: EntrySink): Promise<StreamBatch | undefined> {
  const chunk = o.chunk ?? CHUNK;
  const own = await readOwnPending(redis, o.stream, o.group, o.consumer, o.batchSize, chunk, sink);
  if (own.count + own.orphanIds.length > 0) return own;
  const claimed = await claimStale(redis, o.stream, o.group, o.consumer, o.claimIdleMs, o.batchSize, chunk, sink);
  if (claimed.count + claimed.orphanIds.length > 0) return claimed;
  const fresh = await readNew(redis, o.stream, o.group, o.consumer, o.batchSize, chunk, sink);
  return fresh.count > 0 ? fresh : undefined;
}

/**
 * XACK the IDs in ARGV[4..], then delete them, atomically. When the group then has no pending entry up
 * to the largest ID (ARGV[2]; ARGV[3] is the next ID), every entry up to there was delivered and acknowledged, so one
 * `XTRIM MINID` removes them all (far cheaper for Redis than one XDEL per ID); otherwise (an older entry
 * still pending at some consumer, e.g. a dead pod's batch not claimed yet) XDEL per ID. No entry up to
 * that ID can become pending again: only pending entries are re-delivered or claimed, and new reads
 * start after the group's last delivered ID.
 */
const ACK_SCRIPT = `
local stream, group = KEYS[1], ARGV[1]
local n = #ARGV
for i = 4, n, 5000 do
  redis.call('XACK', stream, group, unpack(ARGV, i, math.min(i + 4999, n)))
end
local older = redis.call('XPENDING', stream, group, '-', ARGV[2], 1)
if #older == 0 then
  redis.call('XTRIM', stream, 'MINID', ARGV[3])
  return 1
end
for i = 4, n, 5000 do
  redis.call('XDEL', stream, unpack(ARGV, i, math.min(i + 4999, n)))
end
return 0`;

/** Compares two stream IDs (`ms-seq`). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  const d = BigInt(am!) - BigInt(bm!) || BigInt(as ?? '0') - BigInt(bs ?? '0');
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/** Acknowledges and deletes entries in one atomic script (never before their data is durable on disk). */
export async function ackAndDelete(redis: Redis, stream: string, group: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  let max = ids[0]!;
  for (const id of ids) if (compareIds(id, max) > 0) max = id;
  const [ms, seq] = max.split('-');
  const next = `${ms}-${BigInt(seq ?? '0') + 1n}`;
  // One array argument: a spread of 250,000 IDs would overflow the call stack.
  await redis.call('EVAL', [ACK_SCRIPT, '1', stream, group, max, next, ...ids]);
}
