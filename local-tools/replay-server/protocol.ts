/**
 * The Jetstream v1 subscribe options, parsed and matched the way the public service does
 * (bluesky-social/jetstream pkg/server): repeatable `wantedCollections` (a value ending in `.*` is a
 * prefix, anything else must be a valid NSID), `wantedDids` (valid DIDs), at most 100 collections and
 * 10,000 DIDs, `maxMessageSizeBytes` (invalid or negative = no limit), `cursor` (a base-10 int64),
 * `requireHello`, and the client's `options_update` message.
 */
import type { EventLine } from './event-line.js';

export const MAX_WANTED_COLLECTIONS = 100;
export const MAX_WANTED_DIDS = 10_000;

// The atproto NSID and DID syntax (indigo atproto/syntax).
const NSID = /^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+(\.[a-zA-Z]([a-zA-Z0-9]{0,62})?)$/;
const DID = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** What a subscriber wants; `collections`/`prefixes` null = every collection, `dids` empty = every DID. */
export interface Filters {
  collections: Set<string> | null;
  prefixes: string[];
  dids: Set<string>;
  /** 0 = no limit; larger events are skipped. */
  maxMessageSizeBytes: number;
}

export interface SubscribeOptions {
  filters: Filters;
  /** Inclusive lower bound on time_us; undefined = from the start of the replay (live tail). */
  cursor: number | undefined;
  requireHello: boolean;
}

/** A bad subscribe parameter: the server answers 400 with this message before any upgrade. */
export class InvalidOptionsError extends Error {
  override readonly name = 'InvalidOptionsError';
}

export const isNsid = (s: string) => s.length > 0 && s.length <= 317 && NSID.test(s);
export const isDid = (s: string) => s.length <= 2048 && DID.test(s);

/** Jetstream's ParseMaxMessageSizeBytes: anything that is not a non-negative integer means no limit. */
export function parseMaxMessageSize(value: unknown): number {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? Math.min(value, 0xffffffff) : 0;
  if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value)) return 0;
  const n = Number(value);
  return n > 0 ? Math.min(n, 0xffffffff) : 0;
}

/** Validates the filter lists (query parameters or an options_update payload). */
export function parseFilters(wantedCollections: readonly string[], wantedDids: readonly string[], maxMessageSizeBytes: number): Filters {
  let collections: Set<string> | null = null;
  const prefixes: string[] = [];
  if (wantedCollections.length > 0) {
    collections = new Set();
    for (const c of wantedCollections) {
      if (c.endsWith('.*')) {
        if (!prefixes.includes(c.slice(0, -1))) prefixes.push(c.slice(0, -1));
        continue;
      }
      if (!isNsid(c)) throw new InvalidOptionsError(`invalid subscriber options: invalid collection: ${c}`);
      collections.add(c);
    }
    prefixes.sort((a, b) => a.length - b.length);
  }
  const dids = new Set<string>();
  for (const d of wantedDids) {
    if (!isDid(d)) throw new InvalidOptionsError(`invalid subscriber options: invalid did: ${d}`);
    dids.add(d);
  }
  if (dids.size > MAX_WANTED_DIDS) throw new InvalidOptionsError('invalid subscriber options: too many wanted DIDs');
  if (collections && collections.size + prefixes.length > MAX_WANTED_COLLECTIONS) {
    throw new InvalidOptionsError('invalid subscriber options: too many wanted collections');
  }
  return { collections, prefixes, dids, maxMessageSizeBytes };
}

/**
 * Parses the query of a `/subscribe` request. Throws InvalidOptionsError for what the public service
 * rejects with 400, and for zstd compression, which this replay server does not implement.
 */
export function parseSubscribeQuery(query: URLSearchParams, headers: Record<string, string | string[] | undefined> = {}): SubscribeOptions {
  const encoding = headers['socket-encoding'];
  const encodingText = Array.isArray(encoding) ? encoding.join(',') : (encoding ?? '');
  if (query.get('compress') === 'true' || encodingText.includes('zstd')) {
    throw new InvalidOptionsError('zstd compression is not supported by this replay server: connect without compress=true or Socket-Encoding: zstd');
  }
  let cursor: number | undefined;
  const qCursor = query.get('cursor') ?? '';
  if (qCursor !== '') {
    if (!/^[+-]?\d+$/.test(qCursor)) throw new InvalidOptionsError(`invalid cursor: ${qCursor}`);
    const big = BigInt(qCursor);
    if (big > INT64_MAX || big < INT64_MIN) throw new InvalidOptionsError(`invalid cursor: ${qCursor}`);
    cursor = Number(big);
  }
  const filters = parseFilters(query.getAll('wantedCollections'), query.getAll('wantedDids'), parseMaxMessageSize(query.get('maxMessageSizeBytes') ?? ''));
  return { filters, cursor, requireHello: query.get('requireHello') === 'true' };
}

/**
 * Parses a text message from a subscriber. Returns new filters for an `options_update`, null for a
 * message type the server ignores; throws InvalidOptionsError (the server then closes the socket).
 */
export function parseClientMessage(text: string): Filters | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    throw new InvalidOptionsError(`failed to unmarshal subscriber sourced message: ${(err as Error).message}`);
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
    throw new InvalidOptionsError('failed to unmarshal subscriber sourced message: not an object');
  }
  const m = msg as { type?: unknown; payload?: unknown };
  if (m.type !== 'options_update') return null;
  const p = (m.payload ?? {}) as { wantedCollections?: unknown; wantedDids?: unknown; maxMessageSizeBytes?: unknown };
  if (typeof p !== 'object' || Array.isArray(p)) throw new InvalidOptionsError('failed to unmarshal subscriber options update: payload is not an object');
  const strings = (v: unknown, name: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new InvalidOptionsError(`failed to unmarshal subscriber options update: ${name} must be an array of strings`);
    }
    return v as string[];
  };
  try {
    return parseFilters(strings(p.wantedCollections, 'wantedCollections'), strings(p.wantedDids, 'wantedDids'), parseMaxMessageSize(p.maxMessageSizeBytes ?? 0));
  } catch (err) {
    if (err instanceof InvalidOptionsError && !err.message.startsWith('failed')) {
      throw new InvalidOptionsError(`failed to parse subscriber options: ${err.message}`);
    }
    throw err;
  }
}

/** Jetstream's rule: identity and account events (no collection) pass every collection filter. */
export function wants(f: Filters, ev: EventLine): boolean {
  if (f.collections && ev.collection !== '') {
    if (!f.collections.has(ev.collection) && !f.prefixes.some((p) => ev.collection.startsWith(p))) return false;
  }
  if (f.dids.size > 0 && !f.dids.has(ev.did)) return false;
  if (f.maxMessageSizeBytes > 0 && ev.buf.length > f.maxMessageSizeBytes) return false;
  return true;
}
