/**
 * One Jetstream event as a raw line of text plus the few fields the replay server filters and seeks on.
 * The line is never re-serialised unless its time has to be shifted (looping), so clients receive the
 * bytes of the file exactly.
 */

export interface EventLine {
  /** The raw JSON text, without the newline. */
  buf: Buffer;
  timeUs: number;
  did: string;
  /** `commit.collection` for commits; '' for identity and account events (Jetstream never filters those by collection). */
  collection: string;
  /** Byte offset and length of the top-level time_us digits inside `buf`, or -1 when unknown. */
  timeAt: number;
  timeLen: number;
}

// Jetstream writes its top-level keys in this order: did, time_us, kind, then the commit with rev,
// operation, collection. The fast path reads them from the first bytes without parsing the record.
const FAST =
  /^\{"did":"([^"\\]+)","time_us":(\d{1,16}),"kind":"([a-z]+)"(?:,"commit":\{"rev":"[^"\\]*","operation":"[a-z]+","collection":"([^"\\]+)")?/;
const PREFIX_BYTES = 600;
const TIME_AT_BASE = '{"did":"'.length + '","time_us":'.length;

/** Extracts time_us, did and collection from a raw event line; null when it is not a usable event. */
export function readEventLine(buf: Buffer): EventLine | null {
  const head = buf.toString('latin1', 0, Math.min(buf.length, PREFIX_BYTES));
  const m = FAST.exec(head);
  if (m && (m[3] !== 'commit' || m[4] !== undefined)) {
    const did = m[1] as string;
    const digits = m[2] as string;
    return { buf, timeUs: Number(digits), did, collection: m[4] ?? '', timeAt: TIME_AT_BASE + did.length, timeLen: digits.length };
  }
  return readSlow(buf);
}

function readSlow(buf: Buffer): EventLine | null {
  let ev: unknown;
  try {
    ev = JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
  if (!ev || typeof ev !== 'object') return null;
  const o = ev as { did?: unknown; time_us?: unknown; kind?: unknown; commit?: { collection?: unknown } };
  if (typeof o.did !== 'string' || typeof o.time_us !== 'number' || !Number.isSafeInteger(o.time_us)) return null;
  const collection = o.kind === 'commit' && typeof o.commit?.collection === 'string' ? o.commit.collection : '';
  return { buf, timeUs: o.time_us, did: o.did, collection, timeAt: -1, timeLen: 0 };
}

/** The line with its top-level time_us increased by `shiftUs` (used when a looping replay starts over). */
export function shiftLine(line: EventLine, shiftUs: number): Buffer {
  if (shiftUs === 0) return line.buf;
  const t = String(line.timeUs + shiftUs);
  if (line.timeAt >= 0) {
    return Buffer.concat([line.buf.subarray(0, line.timeAt), Buffer.from(t, 'latin1'), line.buf.subarray(line.timeAt + line.timeLen)]);
  }
  const ev = JSON.parse(line.buf.toString('utf8')) as { time_us: number };
  ev.time_us = line.timeUs + shiftUs;
  return Buffer.from(JSON.stringify(ev), 'utf8');
}

/** Splits a chunk of text into lines; `carry` is the unfinished tail of the previous chunk. */
export function splitLines(chunk: Buffer, carry: Buffer | null, out: Buffer[]): Buffer | null {
  let data = carry ? Buffer.concat([carry, chunk]) : chunk;
  let pos = 0;
  for (;;) {
    const nl = data.indexOf(10, pos);
    if (nl < 0) break;
    let end = nl;
    if (end > pos && data[end - 1] === 13) end--;
    if (end > pos) out.push(data.subarray(pos, end));
    pos = nl + 1;
  }
  if (pos >= data.length) return null;
  data = data.subarray(pos);
  return data;
}
