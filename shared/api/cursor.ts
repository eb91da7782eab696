/**
 * The opaque keyset cursor of `search`: the (sort_at, uri) of the last row of a page, the sort order,
 * and a fingerprint of the filters, base64url-encoded. The next page starts strictly after that key,
 * so appended data never shifts a page (unlike OFFSET), and a cursor cannot be replayed with other
 * filters by mistake.
 */
import { createHash } from 'node:crypto';
import { BadRequestError } from '../errors.js';
import type { Filters, SortOrder } from './params.js';

export interface Cursor {
  sortAtUs: bigint;
  uri: string;
  sort: SortOrder;
}

/** A short stable hash of the filters (bigints as strings). */
export function filtersFingerprint(filters: Filters): string {
  const json = JSON.stringify(filters, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return createHash('sha256').update(json).digest('base64url').slice(0, 12);
}

export function encodeCursor(c: Cursor, filters: Filters): string {
  const body = JSON.stringify({ v: 1, t: c.sortAtUs.toString(), u: c.uri, o: c.sort, f: filtersFingerprint(filters) });
  return Buffer.from(body, 'utf8').toString('base64url');
}

function bad(message: string): BadRequestError {
  return new BadRequestError('invalid_cursor', message, 'cursor');
}

/** Decodes a cursor given by a client; anything unexpected is a 400 `invalid_cursor`. */
export function decodeCursor(text: string, sort: SortOrder, filters: Filters): Cursor {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw bad('invalid cursor: not a cursor returned by this API');
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('invalid cursor: not a cursor returned by this API');
  }
  const o = obj as { v?: unknown; t?: unknown; u?: unknown; o?: unknown; f?: unknown };
  if (
    typeof o !== 'object' || o === null || o.v !== 1 ||
    typeof o.t !== 'string' || !/^-?\d{1,20}$/.test(o.t) ||
    typeof o.u !== 'string' || o.u.length > 1000 ||
    (o.o !== 'newest' && o.o !== 'oldest') || typeof o.f !== 'string'
  ) {
    throw bad('invalid cursor: not a cursor returned by this API');
  }
  if (o.o !== sort) throw bad(`invalid cursor: it was made for sort=${o.o}`);
  if (o.f !== filtersFingerprint(filters)) throw bad('invalid cursor: it was made for other filters; repeat the same filters as the first page');
  return { sortAtUs: BigInt(o.t), uri: o.u, sort: o.o };
}
