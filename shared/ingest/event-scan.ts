/**
 * Reads the few fields the daemon needs (time_us, kind, collection) from a raw Jetstream event without
 * a full JSON.parse: the event's bytes go to Redis untouched, and parsing ~600 bytes per event at 50k
 * events/s would cost more than everything else the daemon does. Jetstream writes `did`, `time_us`,
 * `kind` first, so the fast path only walks the first few dozen bytes; anything unusual falls back to
 * JSON.parse, so the answer is always the same as JSON.parse's (bench/ingest.ts measures both).
 */

export interface EventMeta {
  /** Top-level integer `time_us`, or undefined when the line is malformed or has none. */
  timeUs: number | undefined;
  /** Top-level `kind` (commit, identity, account, …) when present. */
  kind: string | undefined;
  /** `commit.collection` for commit events. */
  collection: string | undefined;
}

const TIME_KEY = Buffer.from('"time_us":');
const KIND_KEY = Buffer.from('"kind":"');
const COLLECTION_KEY = Buffer.from('"collection":"');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * True when `at` (the index of a `"`) starts a key of the top-level object: walks bytes 1..at tracking
 * strings and nesting, so a `"time_us":` inside a nested record or a string is never taken.
 */
function isTopLevelKey(buf: Buffer, at: number): boolean {
  let i = 0;
  while (isSpace(buf[i])) i++;
  if (buf[i] !== OPEN_BRACE) return false;
  i++;
  let depth = 1;
  let inString = false;
  let lastSignificant = OPEN_BRACE;
  for (; i < at; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    if (!isSpace(c)) lastSignificant = c;
  }
  return !inString && depth === 1 && (lastSignificant === OPEN_BRACE || lastSignificant === COMMA);
}

/** Reads a JSON integer at `i` (after optional spaces); undefined unless it ends where a value must end. */
function readInteger(buf: Buffer, i: number): number | undefined {
  while (isSpace(buf[i])) i++;
  const start = i;
  if (buf[i] === 0x2d) i++;
  const digitsStart = i;
  while (i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
  const digits = i - digitsStart;
  if (digits === 0 || digits > 16) return undefined;
  if (digits > 1 && buf[digitsStart] === 0x30) return undefined;
  const end = buf[i];
  if (end !== COMMA && end !== CLOSE_BRACE && !isSpace(end)) return undefined;
  const n = Number(buf.toString('latin1', start, i));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Reads a plain string value (no escapes) starting at `i`; undefined if it has escapes or is too long. */
function readPlainString(buf: Buffer, i: number, max = 128): string | undefined {
  const end = buf.indexOf(QUOTE, i);
  if (end < 0 || end - i > max) return undefined;
  for (let j = i; j < end; j++) if (buf[j] === BACKSLASH || buf[j]! >= 0x80) return undefined;
  return buf.toString('latin1', i, end);
}

function slowScan(buf: Buffer): EventMeta {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    return { timeUs: undefined, kind: undefined, collection: undefined };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { timeUs: undefined, kind: undefined, collection: undefined };
  const o = v as { time_us?: unknown; kind?: unknown; commit?: { collection?: unknown } };
  const timeUs = typeof o.time_us === 'number' && Number.isSafeInteger(o.time_us) ? o.time_us : undefined;
  const kind = typeof o.kind === 'string' ? o.kind : undefined;
  const c = typeof o.commit === 'object' && o.commit !== null ? o.commit.collection : undefined;
  return { timeUs, kind, collection: typeof c === 'string' ? c : undefined };
}

const DID_PREFIX = Buffer.from('{"did":"');
const TIME_AFTER_DID = Buffer.from(',"time_us":');
const KIND_AFTER_TIME = Buffer.from(',"kind":"');
const KNOWN_KINDS = ['commit', 'identity', 'account'].map((k) => ({ name: k, bytes: Buffer.from(k + '"') }));

function bytesAt(buf: Buffer, at: number, want: Buffer): boolean {
  if (at + want.length > buf.length) return false;
  for (let j = 0; j < want.length; j++) if (buf[at + j] !== want[j]) return false;
  return true;
}

/** Index of `want` in buf[from, limit), searched in JS (cheaper than a native call for a few dozen bytes). */
function findBytes(buf: Buffer, want: Buffer, from: number, limit: number): number {
  const first = want[0];
  const end = Math.min(limit, buf.length - want.length);
  for (let i = from; i <= end; i++) if (buf[i] === first && bytesAt(buf, i, want)) return i;
  return -1;
}

/**
 * Jetstream's own layout, `{"did":"…","time_us":N,"kind":"…"`, checked byte by byte: no native calls and
 * no allocation except the collection label. Undefined when the event is laid out differently.
 */
function jetstreamScan(buf: Buffer): EventMeta | undefined {
  if (!bytesAt(buf, 0, DID_PREFIX)) return undefined;
  let i = DID_PREFIX.length;
  const didEnd = Math.min(buf.length, 256);
  while (i < didEnd && buf[i] !== QUOTE) {
    if (buf[i] === BACKSLASH) return undefined;
    i++;
  }
  if (!bytesAt(buf, i + 1, TIME_AFTER_DID)) return undefined;
  i += 1 + TIME_AFTER_DID.length;
  const digitsStart = i;
  let n = 0;
  while (i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39) n = n * 10 + (buf[i++]! - 0x30);
  const digits = i - digitsStart;
  if (digits === 0 || digits > 16 || (digits > 1 && buf[digitsStart] === 0x30) || !Number.isSafeInteger(n)) return undefined;
  if (buf[i] !== COMMA && buf[i] !== CLOSE_BRACE) return undefined;
  if (!bytesAt(buf, i, KIND_AFTER_TIME)) return { timeUs: n, kind: undefined, collection: undefined };
  i += KIND_AFTER_TIME.length;
  let kind: string | undefined;
  for (const k of KNOWN_KINDS) {
    if (bytesAt(buf, i, k.bytes)) {
      kind = k.name;
      break;
    }
  }
  if (kind === undefined) kind = readPlainString(buf, i, 32);
  let collection: string | undefined;
  if (kind === 'commit') {
    const c = findBytes(buf, COLLECTION_KEY, i, i + 256);
    if (c > 0) collection = readPlainString(buf, c + COLLECTION_KEY.length);
  }
  return { timeUs: n, kind, collection };
}

/**
 * time_us, kind and collection of one raw event. For a well-formed event, time_us (the field the cursor
 * depends on) is exactly JSON.parse's. The rest of the line is not validated: the line goes to Redis
 * either way and the flush quarantines what does not parse. kind and collection only feed metrics, so
 * the fast path takes their first occurrence after time_us, which is where Jetstream writes them.
 */
export function scanEvent(buf: Buffer): EventMeta {
  const fast = jetstreamScan(buf);
  if (fast) return fast;
  const at = buf.indexOf(TIME_KEY);
  if (at <= 0 || at > 512 || !isTopLevelKey(buf, at)) return slowScan(buf);
  const timeUs = readInteger(buf, at + TIME_KEY.length);
  if (timeUs === undefined) return slowScan(buf);
  let kind: string | undefined;
  let collection: string | undefined;
  const k = buf.indexOf(KIND_KEY, at);
  if (k > 0) kind = readPlainString(buf, k + KIND_KEY.length, 32);
  if (kind === 'commit') {
    const c = buf.indexOf(COLLECTION_KEY, at);
    if (c > 0) collection = readPlainString(buf, c + COLLECTION_KEY.length);
  }
  return { timeUs, kind, collection };
}
