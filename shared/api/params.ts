/**
 * The research API's query parameters: one typebox schema per parameter (the OpenAPI document is
 * generated from these), and the parsing that turns a raw query string into typed filters. Every
 * problem a user can type is a BadRequestError naming the parameter; nothing here touches SQL.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BadRequestError } from '../errors.js';
import { decodeCursor, type Cursor } from './cursor.js';
import { parseFeatureFilters, type FeatureFilter } from './feature-filters.js';
import { parseIsoToMicros } from './time.js';

const boolParam = (description: string) => Type.Union([Type.Literal('true'), Type.Literal('false')], { description });
const ISO_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}([.,]\\d{1,9})?)?(Z|z|[+-]\\d{2}:?\\d{2})?)?$';

/** The filters shared by search, export and counts. */
export const filterParams = {
  text: Type.String({
    minLength: 1,
    maxLength: 512,
    description:
      'Case-insensitive substring of the post text. `%`, `_` and `\\` are literal characters. With `exact=true`: the exact phrase, case-sensitive, on word boundaries.',
    examples: ['climate'],
  }),
  exact: boolParam('Match `text` as an exact, case-sensitive phrase on word boundaries (default false).'),
  username: Type.String({
    minLength: 1,
    maxLength: 300,
    description: 'Author: a handle (with or without `@`) or a DID. An unknown handle is a 404 `unknown_username`.',
    examples: ['alice.bsky.social', 'did:plc:abc123'],
  }),
  start: Type.String({
    pattern: ISO_PATTERN,
    description: 'Inclusive lower bound on `sort_at`: an ISO 8601 date (`2025-01-31`, UTC midnight) or date-time (no zone = UTC).',
    examples: ['2025-01-31', '2025-01-31T12:00:00Z'],
  }),
  end: Type.String({
    pattern: ISO_PATTERN,
    description: 'Exclusive upper bound on `sort_at`, same format as `start`.',
    examples: ['2025-02-01'],
  }),
  lang: Type.String({
    pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$',
    description: 'A BCP 47 language tag the post declares in `langs` (exact, case-insensitive), e.g. `en`, `pt-BR`.',
    examples: ['en'],
  }),
  hashtag: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'A hashtag the post carries (with or without `#`, case-insensitive).',
    examples: ['science'],
  }),
  has_media: boolParam('Only posts with (true) or without (false) images or video.'),
  is_reply: boolParam('Only replies (true) or only posts that are not replies (false).'),
  feature_filters: Type.String({
    minLength: 1,
    maxLength: 1000,
    description:
      'Comma-separated comparisons on enrichment scores (`post_features`), all of which must hold, e.g. `toxicity_score>=0.8,political_score<0.3`. Operators: `<`, `<=`, `>`, `>=`, `=`. Posts without scores never match.',
    examples: ['toxicity_score>=0.8'],
  }),
} satisfies Record<string, TSchema>;

const sortParam = Type.Union([Type.Literal('newest'), Type.Literal('oldest')], {
  description: 'Order by `sort_at` (then `uri`): `newest` first (default) or `oldest` first.',
  default: 'newest',
});

export const searchParamSchemas = {
  ...filterParams,
  limit: Type.String({ pattern: '^\\d+$', description: 'Results per page (default `PAGE_DEFAULT`, at most `PAGE_MAX`).', examples: ['50'] }),
  cursor: Type.String({ maxLength: 2000, description: 'Opaque cursor from `meta.next_cursor` of the previous page (same filters and sort).' }),
  sort: sortParam,
};

export const exportParamSchemas = {
  ...filterParams,
  format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], {
    description: '`csv` (default; RFC 4180, UTF-8, header row) or `ndjson` (one JSON object per line).',
    default: 'csv',
  }),
  sort: sortParam,
};

export const countsParamSchemas = {
  ...filterParams,
  granularity: Type.Union([Type.Literal('hour'), Type.Literal('day')], { description: 'Bucket size (UTC).', default: 'day' }),
  feature: Type.String({
    pattern: '^[a-z][a-z0-9_]{0,63}$',
    description: 'A `post_features` column: each bucket also carries the number of scored posts and the mean score.',
    examples: ['toxicity_score'],
  }),
};

export const searchQuerySchema: TObject = Type.Object(optional(searchParamSchemas), { additionalProperties: false });
export const exportQuerySchema: TObject = Type.Object(optional(exportParamSchemas), { additionalProperties: false });
export const countsQuerySchema: TObject = Type.Object(optional(countsParamSchemas), { additionalProperties: false });

function optional<T extends Record<string, TSchema>>(props: T): Record<string, TSchema> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, Type.Optional(v)]));
}

/** The filters every query function applies, typed and checked. */
export interface Filters {
  text?: string;
  exact: boolean;
  /** Raw username as given (handle without @, or DID); resolved to `authorDid` later. */
  username?: string;
  startUs?: bigint;
  endUs?: bigint;
  lang?: string;
  hashtag?: string;
  hasMedia?: boolean;
  isReply?: boolean;
  features: FeatureFilter[];
}

export type SortOrder = 'newest' | 'oldest';

export interface SearchParams {
  filters: Filters;
  limit: number;
  cursor?: Cursor;
  sort: SortOrder;
}

export interface ExportParams {
  filters: Filters;
  format: 'csv' | 'ndjson';
  sort: SortOrder;
}

export interface CountsParams {
  filters: Filters;
  granularity: 'hour' | 'day';
  feature?: string;
}

export interface ParseOptions {
  /** Feature columns of post_features (checked identifiers). */
  features: readonly string[];
  pageDefault: number;
  pageMax: number;
}

type RawQuery = Record<string, unknown>;

/** Rejects unknown and repeated parameters, then checks each value against its schema. */
function checkShape(raw: RawQuery, schemas: Record<string, TSchema>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const schema = schemas[key];
    if (!schema) {
      throw new BadRequestError('unknown_parameter', `unknown parameter "${clip(key)}"; expected one of: ${Object.keys(schemas).join(', ')}`, clip(key));
    }
    if (Array.isArray(value)) throw new BadRequestError('repeated_parameter', `parameter "${key}" may be given only once`, key);
    if (typeof value !== 'string') throw new BadRequestError('invalid_parameter', `parameter "${key}" must be a string`, key);
    if (!Value.Check(schema, value)) throw new BadRequestError(codeFor(key), `invalid ${key}: ${expectation(key, schema)}`, key);
    out[key] = value;
  }
  return out;
}

function codeFor(key: string): string {
  if (key === 'start' || key === 'end') return 'invalid_date';
  if (key === 'limit') return 'invalid_limit';
  if (key === 'cursor') return 'invalid_cursor';
  return 'invalid_parameter';
}

function expectation(key: string, schema: TSchema): string {
  if (key === 'start' || key === 'end') return 'expected an ISO 8601 date (2025-01-31) or date-time (2025-01-31T12:00:00Z)';
  if (key === 'limit') return 'expected a whole number';
  if (Array.isArray(schema.anyOf)) return `expected one of ${schema.anyOf.map((s: TSchema) => JSON.stringify(s.const)).join(', ')}`;
  const bits: string[] = [];
  if (schema.minLength !== undefined) bits.push(`at least ${schema.minLength} characters`);
  if (schema.maxLength !== undefined) bits.push(`at most ${schema.maxLength} characters`);
  if (schema.pattern !== undefined) bits.push(`matching ${schema.pattern}`);
  return `expected ${bits.join(', ') || 'a valid value'}`;
}

/** A user-typed name shortened for an error message. */
function clip(s: string): string {
  return s.length > 64 ? s.slice(0, 61) + '...' : s;
}

function parseFilters(q: Record<string, string>, opts: ParseOptions): Filters {
  const filters: Filters = { exact: q.exact === 'true', features: [] };
  if (q.text !== undefined) {
    if (q.text.trim() === '') throw new BadRequestError('invalid_parameter', 'invalid text: must not be blank', 'text');
    filters.text = q.text;
  }
  if (q.exact === 'true' && q.text === undefined) throw new BadRequestError('invalid_parameter', 'exact=true needs a text parameter', 'exact');
  if (q.username !== undefined) {
    const u = q.username.trim().replace(/^@/, '');
    if (!/^did:[a-z]+:[A-Za-z0-9._:%-]{1,256}$/.test(u) && !/^[A-Za-z0-9]([A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}$/.test(u)) {
      throw new BadRequestError('invalid_username', 'invalid username: expected a handle (alice.bsky.social, with or without @) or a DID (did:plc:...)', 'username');
    }
    filters.username = u.startsWith('did:') ? u : u.toLowerCase();
  }
  for (const key of ['start', 'end'] as const) {
    if (q[key] === undefined) continue;
    const us = parseIsoToMicros(q[key]);
    if (us === undefined) throw new BadRequestError('invalid_date', `invalid ${key}: not a valid date or date-time (e.g. 2025-01-31 or 2025-01-31T12:00:00Z)`, key);
    if (key === 'start') filters.startUs = us;
    else filters.endUs = us;
  }
  if (filters.startUs !== undefined && filters.endUs !== undefined && filters.startUs >= filters.endUs) {
    throw new BadRequestError('invalid_range', 'end must be after start', 'end');
  }
  if (q.lang !== undefined) filters.lang = q.lang.toLowerCase();
  if (q.hashtag !== undefined) {
    const tag = q.hashtag.trim().replace(/^#/, '').toLowerCase();
    if (tag === '') throw new BadRequestError('invalid_parameter', 'invalid hashtag: empty', 'hashtag');
    filters.hashtag = tag;
  }
  if (q.has_media !== undefined) filters.hasMedia = q.has_media === 'true';
  if (q.is_reply !== undefined) filters.isReply = q.is_reply === 'true';
  if (q.feature_filters !== undefined) filters.features = parseFeatureFilters(q.feature_filters, opts.features);
  return filters;
}

/** Parses the `search` query string. */
export function parseSearchParams(raw: RawQuery, opts: ParseOptions): SearchParams {
  const q = checkShape(raw, searchParamSchemas);
  const filters = parseFilters(q, opts);
  let limit = opts.pageDefault;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > opts.pageMax) {
      throw new BadRequestError('invalid_limit', `invalid limit: expected a whole number from 1 to ${opts.pageMax}`, 'limit');
    }
  }
  const sort = (q.sort ?? 'newest') as SortOrder;
  const params: SearchParams = { filters, limit, sort };
  if (q.cursor !== undefined) params.cursor = decodeCursor(q.cursor, sort, filters);
  return params;
}

/** Parses the `export` query string. */
export function parseExportParams(raw: RawQuery, opts: ParseOptions): ExportParams {
  const q = checkShape(raw, exportParamSchemas);
  return { filters: parseFilters(q, opts), format: (q.format ?? 'csv') as 'csv' | 'ndjson', sort: (q.sort ?? 'newest') as SortOrder };
}

/** Parses the `counts` query string. */
export function parseCountsParams(raw: RawQuery, opts: ParseOptions): CountsParams {
  const q = checkShape(raw, countsParamSchemas);
  const params: CountsParams = { filters: parseFilters(q, opts), granularity: (q.granularity ?? 'day') as 'hour' | 'day' };
  if (q.feature !== undefined) {
    if (!opts.features.includes(q.feature)) {
      throw new BadRequestError('unknown_feature', `unknown feature "${q.feature}"; known: ${opts.features.join(', ')}`, 'feature');
    }
    params.feature = q.feature;
  }
  return params;
}
