/**
 * Parsing and validation of enrichment imports: NDJSON (one JSON object per line) or CSV (RFC 4180 with a
 * header row). Feature names and ranges come from the `post_features` table definition. The body is walked
 * record by record (never split into one big array of lines); a bad row is rejected with its line number
 * and reason while the others go on; problems with the request as a whole are BadRequestErrors.
 */
import { BadRequestError } from '../errors.js';
import { FEATURE_COLUMNS, type ColumnDef } from '../tables/index.js';

/** A validated score row. Features absent or null are not provided (left NULL). */
export interface ScoreRow {
  uri: string;
  scores: Record<string, number>;
  model: string | null;
  /** µs since the epoch. */
  scoredAtUs: bigint;
}

export interface RowError {
  /** Line of the body where the row starts (1-based; the CSV header is line 1). */
  line: number;
  uri?: string;
  reason: string;
}

export interface ParseResult {
  rows: ScoreRow[];
  accepted: number;
  rejected: number;
  /** The first `maxErrors` rejections. */
  errors: RowError[];
}

export interface ParseOptions {
  /** Used as scored_at for rows without one (µs). */
  nowUs: bigint;
  maxErrors?: number;
  /** scored_at later than now + this is refused (a future time would outrank every later re-send). */
  maxFutureUs?: bigint;
}

export const FEATURE_DEFS: ReadonlyMap<string, ColumnDef> = new Map(FEATURE_COLUMNS.map((c) => [c.name, c]));
/** Keys a row may carry besides the features. */
export const ROW_META_KEYS = ['uri', 'model', 'scored_at'] as const;

const DID = 'did:[a-z]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._-]';
const URI_RE = new RegExp(`^at://${DID}/app\\.bsky\\.feed\\.post/(?!\\.{1,2}$)[A-Za-z0-9._:~-]{1,512}$`);
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_MODEL = 200;

export function isPostUri(s: string): boolean {
  return s.length <= 8192 && URI_RE.test(s);
}

function clip(s: string, n = 80): string {
  return s.length > n ? s.slice(0, n - 3) + '...' : s;
}

class RowRejected extends Error {}

function reject(reason: string): never {
  throw new RowRejected(reason);
}

/** Collects rows and errors; `add` validates one record given as a key → value map. */
class Collector {
  readonly rows: ScoreRow[] = [];
  readonly errors: RowError[] = [];
  rejected = 0;
  constructor(private readonly opts: Required<ParseOptions>) {}

  fail(line: number, reason: string, uri?: string): void {
    this.rejected++;
    if (this.errors.length < this.opts.maxErrors) this.errors.push(uri === undefined ? { line, reason } : { line, uri, reason });
  }

  /** `fromText`: values are CSV strings (empty = not provided) instead of JSON values. */
  add(line: number, rec: Record<string, unknown>, fromText: boolean): void {
    const rawUri = rec.uri;
    const uri = typeof rawUri === 'string' ? rawUri : undefined;
    try {
      if (rawUri === undefined || rawUri === null || rawUri === '') reject('missing uri');
      if (uri === undefined) reject('uri must be a string');
      if (!isPostUri(uri)) reject(`uri is not a post URI (at://did:…/app.bsky.feed.post/<rkey>): "${clip(uri)}"`);
      const scores: Record<string, number> = {};
      let model: string | null = null;
      let scoredAtUs = this.opts.nowUs;
      for (const [key, value] of Object.entries(rec)) {
        if (key === 'uri') continue;
        const empty = value === null || value === undefined || (fromText && value === '');
        if (key === 'model') {
          if (empty) continue;
          if (typeof value !== 'string') reject('model must be a string');
          if (value.length > MAX_MODEL) reject(`model longer than ${MAX_MODEL} characters`);
          model = value;
          continue;
        }
        if (key === 'scored_at') {
          if (empty) continue;
          if (typeof value !== 'string' || !ISO_DATETIME.test(value)) reject('scored_at must be an ISO 8601 date-time with a time zone, e.g. 2026-07-01T12:00:00Z');
          const ms = Date.parse(value.replace(' ', 'T'));
          if (!Number.isFinite(ms)) reject(`scored_at "${clip(value)}" is not a valid date-time`);
          const us = BigInt(ms) * 1000n;
          if (us > this.opts.nowUs + this.opts.maxFutureUs) reject(`scored_at "${clip(value)}" is in the future`);
          scoredAtUs = us;
          continue;
        }
        const def = FEATURE_DEFS.get(key);
        if (!def) reject(`unknown feature "${clip(key)}"; known: ${[...FEATURE_DEFS.keys()].join(', ')}`);
        if (empty) continue;
        let n: number;
        if (fromText) {
          const s = String(value).trim();
          if (!NUMBER_TEXT.test(s)) reject(`${key}: "${clip(s)}" is not a number`);
          n = Number(s);
        } else {
          if (typeof value !== 'number') reject(`${key}: ${clip(JSON.stringify(value))} is not a number`);
          n = value;
        }
        const range = def.feature!;
        if (!Number.isFinite(n)) reject(`${key}: ${n} is not a finite number`);
        if (n < range.min || n > range.max) reject(`${key}: ${n} is outside [${range.min}, ${range.max}]`);
        scores[key] = n;
      }
      if (Object.keys(scores).length === 0) reject('no scores: the row has no feature value');
      this.rows.push({ uri, scores, model, scoredAtUs });
    } catch (err) {
      if (!(err instanceof RowRejected)) throw err;
      this.fail(line, err.message, uri !== undefined && uri !== '' ? clip(uri, 300) : undefined);
    }
  }

  result(): ParseResult {
    return { rows: this.rows, accepted: this.rows.length, rejected: this.rejected, errors: this.errors };
  }
}

function withDefaults(opts: ParseOptions): Required<ParseOptions> {
  return { maxErrors: 100, maxFutureUs: 3_600_000_000n, ...opts };
}

/** NDJSON: one JSON object per line; blank lines are skipped; a line that is not JSON is rejected. */
export function parseNdjson(body: Buffer, opts: ParseOptions): ParseResult {
  const c = new Collector(withDefaults(opts));
  let start = 0;
  let line = 0;
  // Skip a UTF-8 byte order mark.
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) start = 3;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    line++;
    const text = body.toString('utf8', start, end).trim();
    start = end + 1;
    if (text === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch {
      c.fail(line, 'malformed JSON');
      continue;
    }
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) {
      c.fail(line, 'not a JSON object');
      continue;
    }
    c.add(line, rec as Record<string, unknown>, false);
  }
  return c.result();
}

interface CsvRecord {
  line: number;
  fields: string[];
}

/** RFC 4180 records (quoted fields with doubled quotes, CRLF or LF line ends, line breaks inside quotes). */
export function* csvRecords(text: string): Generator<CsvRecord> {
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new BadRequestError('invalid_csv', `CSV: a quoted field starting on line ${startLine} is never closed`, 'body');
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          value += ch;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new BadRequestError('invalid_csv', `CSV: unexpected character after a closing quote on line ${line}`, 'body');
        }
      } else {
        const startI = i;
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') i++;
        value = text.slice(startI, i);
        if (value.includes('"')) throw new BadRequestError('invalid_csv', `CSV: a quote inside an unquoted field on line ${line}`, 'body');
      }
      fields.push(value);
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      // End of record: CRLF or LF (a lone CR too).
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    // A blank line is no record.
    if (fields.length === 1 && fields[0] === '') continue;
    yield { line: startLine, fields };
  }
}

/**
 * CSV with a header row naming `uri`, feature columns and optionally `model`, `scored_at`. An unknown or
 * repeated header column rejects the whole request (400 naming it); so does a missing `uri` column.
 */
export function parseCsv(body: Buffer, opts: ParseOptions): ParseResult {
  const c = new Collector(withDefaults(opts));
  const records = csvRecords(body.toString('utf8'));
  const first = records.next();
  if (first.done) throw new BadRequestError('empty_body', 'the CSV has no header row', 'body');
  const header = first.value.fields.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (!FEATURE_DEFS.has(h) && !(ROW_META_KEYS as readonly string[]).includes(h)) {
      throw new BadRequestError('unknown_column', `CSV header: unknown column "${clip(h)}"; allowed: ${[...ROW_META_KEYS, ...FEATURE_DEFS.keys()].join(', ')}`, 'body');
    }
    if (seen.has(h)) throw new BadRequestError('duplicate_column', `CSV header: column "${h}" appears twice`, 'body');
    seen.add(h);
  }
  if (!seen.has('uri')) throw new BadRequestError('missing_column', 'CSV header: no "uri" column', 'body');
  for (const rec of records) {
    if (rec.fields.length !== header.length) {
      const uriAt = header.indexOf('uri');
      const uri = rec.fields[uriAt];
      c.fail(rec.line, `expected ${header.length} fields, got ${rec.fields.length}`, uri ? clip(uri, 300) : undefined);
      continue;
    }
    const obj: Record<string, unknown> = {};
    header.forEach((h, k) => (obj[h] = h === 'uri' ? rec.fields[k]!.trim() : rec.fields[k]));
    c.add(rec.line, obj, true);
  }
  return c.result();
}

/** Within one import, a later row for the same post and model replaces an earlier one. */
export function lastPerPostAndModel(rows: readonly ScoreRow[]): ScoreRow[] {
  const byKey = new Map<string, ScoreRow>();
  for (const r of rows) {
    const key = `${r.model ?? ''}\u0000${r.uri}`;
    byKey.delete(key);
    byKey.set(key, r);
  }
  return [...byKey.values()];
}
