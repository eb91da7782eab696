/**
 * Where replayed events come from. Small files are held in memory (one buffer plus a time index, so each
 * client seeks by binary search); large plain files are binary-searched on disk and streamed; large .gz
 * files are streamed from the start (gzip cannot seek). Memory stays bounded for a whole day of events.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Logger } from '../../shared/log.js';
import { readEventLine, splitLines, type EventLine } from './event-line.js';

/** A client's read position: batches of events in file order; an empty batch means the end. */
export interface LineIterator {
  next(max: number): Promise<EventLine[]>;
  close(): void;
}

export interface EventSource {
  readonly description: string;
  /** time_us of the first and last event (NaN when the source is empty or the end is unknown). */
  readonly firstTimeUs: number;
  readonly lastTimeUs: number;
  /** Number of events, when known. */
  readonly count: number | undefined;
  /** Events with time_us >= fromUs (all of them when fromUs is undefined), in file order. */
  open(fromUs?: number): LineIterator;
  close(): Promise<void>;
}

/** Files up to this many (decompressed) bytes are held in memory. */
export const DEFAULT_MEMORY_LIMIT = 512 * 1024 * 1024;

export interface OpenSourceOptions {
  memoryLimitBytes?: number;
  /** Needed to loop a streamed .gz file: its last time_us is only known after reading it once. */
  needEnd?: boolean;
  log: Logger;
}

/** Opens a .jsonl or .jsonl.gz file of Jetstream events sorted by time_us. */
export async function openFileSource(file: string, opts: OpenSourceOptions): Promise<EventSource> {
  const limit = opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
  const { size } = await stat(file);
  if (file.endsWith('.gz')) {
    // A compressed file larger than the limit cannot fit once decompressed: do not try.
    const data = size <= limit ? await readGzipUpTo(file, limit) : null;
    if (data) return MemorySource.fromBuffer(data, file, opts.log);
    return GzipStreamSource.create(file, opts.needEnd ?? false);
  }
  if (size <= limit) {
    const fh = await open(file, 'r');
    try {
      const data = Buffer.allocUnsafe(size);
      let off = 0;
      while (off < size) {
        const { bytesRead } = await fh.read(data, off, size - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return MemorySource.fromBuffer(data.subarray(0, off), file, opts.log);
    } finally {
      await fh.close();
    }
  }
  return PlainFileSource.create(file, size);
}

/** Decompresses a .gz file, or returns null as soon as it grows past `limit` bytes. */
async function readGzipUpTo(file: string, limit: number): Promise<Buffer | null> {
  const input = createReadStream(file);
  const gunzip = input.pipe(createGunzip());
  input.on('error', (err) => gunzip.destroy(err));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) return null;
      chunks.push(chunk);
    }
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(chunks, total);
}

function lowerBound(times: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every event in one buffer, indexed by line offsets, time_us and interned did/collection ids. */
export class MemorySource implements EventSource {
  readonly count: number;
  readonly firstTimeUs: number;
  readonly lastTimeUs: number;

  private constructor(
    readonly description: string,
    private readonly data: Buffer,
    private readonly starts: Float64Array,
    private readonly ends: Float64Array,
    private readonly times: Float64Array,
    private readonly didIds: Uint32Array,
    private readonly collIds: Uint32Array,
    private readonly timeAts: Int32Array,
    private readonly timeLens: Uint8Array,
    private readonly dids: string[],
    private readonly colls: string[],
  ) {
    this.count = times.length;
    this.firstTimeUs = this.count ? (times[0] as number) : NaN;
    this.lastTimeUs = this.count ? (times[this.count - 1] as number) : NaN;
  }

  /** Indexes a buffer of newline-separated events; unusable lines are skipped with a warning, unsorted input is sorted. */
  static fromBuffer(data: Buffer, name: string, log: Logger): MemorySource {
    const starts: number[] = [];
    const ends: number[] = [];
    const times: number[] = [];
    const didIds: number[] = [];
    const collIds: number[] = [];
    const timeAts: number[] = [];
    const timeLens: number[] = [];
    const dids: string[] = [];
    const colls: string[] = [];
    const didMap = new Map<string, number>();
    const collMap = new Map<string, number>();
    const intern = (map: Map<string, number>, list: string[], s: string) => {
      let id = map.get(s);
      if (id === undefined) {
        id = list.length;
        const flat = Buffer.from(s, 'latin1').toString('latin1'); // do not keep the regex's parent string alive
        list.push(flat);
        map.set(flat, id);
      }
      return id;
    };
    let skipped = 0;
    let sorted = true;
    let pos = 0;
    let lineNo = 0;
    while (pos < data.length) {
      let nl = data.indexOf(10, pos);
      if (nl < 0) nl = data.length;
      let end = nl;
      if (end > pos && data[end - 1] === 13) end--;
      lineNo++;
      if (end > pos) {
        const ev = readEventLine(data.subarray(pos, end));
        if (ev) {
          if (times.length && ev.timeUs < (times[times.length - 1] as number)) sorted = false;
          starts.push(pos);
          ends.push(end);
          times.push(ev.timeUs);
          didIds.push(intern(didMap, dids, ev.did));
          collIds.push(intern(collMap, colls, ev.collection));
          timeAts.push(ev.timeAt);
          timeLens.push(ev.timeLen);
        } else if (data.subarray(pos, end).toString('latin1').trim() !== '') {
          if (skipped < 5) log.warn({ file: name, line: lineNo }, 'skipping a line that is not a Jetstream event');
          skipped++;
        }
      }
      pos = nl + 1;
    }
    if (skipped) log.warn({ file: name, skipped }, 'lines skipped');
    let order: number[] | null = null;
    if (!sorted) {
      log.warn({ file: name }, 'events are not sorted by time_us; sorting them in memory');
      order = times.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
    }
    const pick = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(Ctor: new (a: ArrayLike<number>) => T, src: number[]) =>
      new Ctor(order ? order.map((i) => src[i] as number) : src);
    return new MemorySource(
      name,
      data,
      pick(Float64Array, starts),
      pick(Float64Array, ends),
      pick(Float64Array, times),
      pick(Uint32Array, didIds),
      pick(Uint32Array, collIds),
      pick(Int32Array, timeAts),
      pick(Uint8Array, timeLens),
      dids,
      colls,
    );
  }

  /** Builds a source from raw JSON lines (tests and callers holding events in memory). */
  static fromLines(lines: readonly string[], log: Logger): MemorySource {
    return MemorySource.fromBuffer(Buffer.from(lines.join('\n'), 'utf8'), `${lines.length} in-memory events`, log);
  }

  open(fromUs?: number): LineIterator {
    let i = fromUs === undefined ? 0 : lowerBound(this.times, this.count, fromUs);
    let closed = false;
    return {
      next: async (max: number) => {
        const out: EventLine[] = [];
        while (!closed && i < this.count && out.length < max) {
          out.push(this.line(i));
          i++;
        }
        return out;
      },
      close: () => {
        closed = true;
      },
    };
  }

  private line(i: number): EventLine {
    return {
      buf: this.data.subarray(this.starts[i] as number, this.ends[i] as number),
      timeUs: this.times[i] as number,
      did: this.dids[this.didIds[i] as number] as string,
      collection: this.colls[this.collIds[i] as number] as string,
      timeAt: this.timeAts[i] as number,
      timeLen: this.timeLens[i] as number,
    };
  }

  async close(): Promise<void> {}
}

/** Reads lines from a stream of text chunks, skipping unusable lines and those before `fromUs`. */
function streamIterator(stream: Readable, fromUs: number | undefined): LineIterator {
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let pending: Buffer[] = [];
  let at = 0;
  let carry: Buffer | null = null;
  let done = false;
  let seeking = fromUs !== undefined;
  return {
    async next(max: number) {
      const out: EventLine[] = [];
      while (out.length < max) {
        if (at >= pending.length) {
          if (done) break;
          pending = [];
          at = 0;
          const r = await chunks.next();
          if (r.done) {
            done = true;
            if (carry) pending.push(carry);
            carry = null;
          } else {
            carry = splitLines(r.value, carry, pending);
          }
          continue;
        }
        const ev = readEventLine(pending[at++] as Buffer);
        if (!ev) continue;
        if (seeking) {
          if (ev.timeUs < (fromUs as number)) continue;
          seeking = false;
        }
        out.push(ev);
      }
      return out;
    },
    close() {
      done = true;
      stream.destroy();
    },
  };
}

/** First and last event of a stream (one pass), for a streamed source's bounds. */
async function scanBounds(stream: Readable): Promise<{ first: number; last: number; count: number }> {
  const it = streamIterator(stream, undefined);
  let first = NaN;
  let last = NaN;
  let count = 0;
  try {
    for (;;) {
      const batch = await it.next(4096);
      if (!batch.length) break;
      if (!count) first = (batch[0] as EventLine).timeUs;
      last = (batch[batch.length - 1] as EventLine).timeUs;
      count += batch.length;
    }
  } finally {
    it.close();
  }
  return { first, last, count };
}

async function firstEvent(stream: Readable): Promise<number> {
  const it = streamIterator(stream, undefined);
  try {
    const [ev] = await it.next(1);
    return ev ? ev.timeUs : NaN;
  } finally {
    it.close();
  }
}

function gunzipStream(file: string): Readable {
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  gunzip.on('close', () => input.destroy());
  return input.pipe(gunzip);
}

/** A large .gz file: every client decompresses from the start and skips to its cursor. */
class GzipStreamSource implements EventSource {
  private constructor(
    private readonly file: string,
    readonly firstTimeUs: number,
    readonly lastTimeUs: number,
    readonly count: number | undefined,
  ) {}

  get description() {
    return `${this.file} (streamed gzip)`;
  }

  static async create(file: string, needEnd: boolean): Promise<GzipStreamSource> {
    if (needEnd) {
      const b = await scanBounds(gunzipStream(file));
      return new GzipStreamSource(file, b.first, b.last, b.count);
    }
    return new GzipStreamSource(file, await firstEvent(gunzipStream(file)), NaN, undefined);
  }

  open(fromUs?: number): LineIterator {
    return streamIterator(gunzipStream(this.file), fromUs);
  }

  async close(): Promise<void> {}
}

/** A large plain file: the cursor is found by binary search on byte offsets, then the file is streamed. */
class PlainFileSource implements EventSource {
  readonly count = undefined;

  private constructor(
    private readonly file: string,
    private readonly size: number,
    readonly firstTimeUs: number,
    readonly lastTimeUs: number,
  ) {}

  get description() {
    return `${this.file} (streamed)`;
  }

  static async create(file: string, size: number): Promise<PlainFileSource> {
    const first = await firstEvent(createReadStream(file));
    const last = await PlainFileSource.lastTime(file, size);
    return new PlainFileSource(file, size, first, last);
  }

  private static async lastTime(file: string, size: number): Promise<number> {
    const fh = await open(file, 'r');
    try {
      for (let back = 64 * 1024; ; back *= 4) {
        const start = Math.max(0, size - back);
        const buf = Buffer.allocUnsafe(size - start);
        const { bytesRead } = await fh.read(buf, 0, buf.length, start);
        const lines: Buffer[] = [];
        const tail = splitLines(buf.subarray(0, bytesRead), null, lines);
        if (tail) lines.push(tail);
        for (let i = lines.length - 1; i >= (start > 0 ? 1 : 0); i--) {
          const ev = readEventLine(lines[i] as Buffer);
          if (ev) return ev.timeUs;
        }
        if (start === 0) return NaN;
      }
    } finally {
      await fh.close();
    }
  }

  /** Offset and time of the first usable line that starts at or after `pos`, or null at the end. */
  private async lineAtOrAfter(fh: import('node:fs/promises').FileHandle, pos: number): Promise<{ start: number; timeUs: number } | null> {
    let start = pos;
    const chunk = Buffer.allocUnsafe(64 * 1024);
    if (pos > 0) {
      // The line starting at pos counts only if the byte before it is a newline.
      let scan = pos - 1;
      for (;;) {
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, scan);
        if (bytesRead === 0) return null;
        const nl = chunk.subarray(0, bytesRead).indexOf(10);
        if (nl >= 0) {
          start = scan + nl + 1;
          break;
        }
        scan += bytesRead;
      }
    }
    for (;;) {
      if (start >= this.size) return null;
      let line = Buffer.alloc(0);
      let at = start;
      let end = -1;
      while (end < 0) {
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, at);
        if (bytesRead === 0) break;
        const nl = chunk.subarray(0, bytesRead).indexOf(10);
        const part = chunk.subarray(0, nl >= 0 ? nl : bytesRead);
        line = Buffer.concat([line, part]);
        at += bytesRead;
        if (nl >= 0) end = start + line.length;
      }
      if (end < 0) end = this.size;
      const ev = readEventLine(line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line);
      if (ev) return { start, timeUs: ev.timeUs };
      start = end + 1;
    }
  }

  /** Byte offset of the first event with time_us >= fromUs. */
  async seek(fromUs: number): Promise<number> {
    const fh = await open(this.file, 'r');
    try {
      let lo = 0;
      let hi = this.size;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const l = await this.lineAtOrAfter(fh, mid);
        if (!l || l.timeUs >= fromUs) hi = mid;
        else lo = l.start + 1;
      }
      const l = await this.lineAtOrAfter(fh, lo);
      return l ? l.start : this.size;
    } finally {
      await fh.close();
    }
  }

  open(fromUs?: number): LineIterator {
    let inner: LineIterator | null = null;
    let closed = false;
    const ready = (async () => {
      const start = fromUs === undefined ? 0 : await this.seek(fromUs);
      if (closed) return;
      inner = streamIterator(createReadStream(this.file, { start, highWaterMark: 256 * 1024 }), fromUs);
    })();
    return {
      async next(max: number) {
        await ready;
        return inner && !closed ? inner.next(max) : [];
      },
      close() {
        closed = true;
        inner?.close();
      },
    };
  }

  async close(): Promise<void> {}
}
