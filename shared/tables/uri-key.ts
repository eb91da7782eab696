/**
 * `uri_key`: a record's lookup key, the first 8 bytes of md5(uri) as an unsigned integer (a hexadecimal
 * text cast, so the value is defined by MD5 alone, not by an engine's internal hash, and files stay
 * readable across versions). Tables the API looks up by uri in many small files (post_features, deletes)
 * carry it: finding the files that hold given uris reads 8 bytes a row instead of a ~70-byte uri.
 */
import type { ColumnDef } from './types.js';

export function uriKeySql(uri: string): string {
  return `('0x' || left(md5(${uri}), 16))::UBIGINT`;
}

/** The column, derived from the row's `uri`; `fromEvents` is the flush's projection of the uri (firehose tables). */
export function uriKeyColumn(fromEvents?: string): ColumnDef {
  return {
    name: 'uri_key',
    type: 'UBIGINT',
    description:
      "The first 8 bytes of md5(uri) as an unsigned integer, computed when the file is written. Finding the files that hold given uris reads this column alone (8 bytes a row, against ~70 for the uri): the API does so for a search step's deletes and a page's scores.",
    ...(fromEvents !== undefined ? { sql: uriKeySql(fromEvents) } : {}),
    derived: (row) => uriKeySql(`${row}.uri`),
  };
}
