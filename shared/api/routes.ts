/**
 * The route registry of the research API's query functions: for each, its method, documentation, the
 * typebox schema of its query parameters (the very schemas that validate requests, see params.ts) and
 * of its answer. The OpenAPI document (docs function) is generated from this list.
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { postSchema } from './fields.js';
import { countsQuerySchema, exportQuerySchema, searchQuerySchema } from './params.js';
import { CSV_EXAMPLE, enrichQuerySchema, enrichResponseSchema, NDJSON_EXAMPLE, scoreRowSchema } from '../enrich/schema.js';

export interface ApiRoute {
  /** Function name: served at /function/<name>. */
  name: 'search' | 'export' | 'counts' | 'enrich' | 'docs';
  method: 'GET' | 'POST';
  /** Path below /function (default `/<name>`). */
  path?: string;
  summary: string;
  description: string;
  query: TObject;
  /** Schema of a 200 answer; for export, of one NDJSON line (CSV has the same columns, features flattened). */
  response: TSchema;
  /** Media types of a 200 answer. */
  produces: string[];
  /** Response headers worth documenting. */
  headers?: Record<string, string>;
  /** POST body: per media type, the schema of one row (NDJSON) or the text (CSV), with an example. */
  body?: { description: string; content: Record<string, { schema: TSchema; example: string }> };
}

export const errorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. invalid_date, invalid_limit, unknown_feature, unknown_username, query_timeout, out_of_memory.' }),
      message: Type.String({ description: 'What was wrong, for humans.' }),
      param: Type.Optional(Type.String({ description: 'The parameter at fault, when there is one.' })),
    }),
  },
  { description: 'Every error answer (400, 404, 405, 503).' },
);

const searchResponse = Type.Object({
  data: Type.Array(postSchema),
  meta: Type.Object({
    count: Type.Integer({ description: 'Posts in this page.' }),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` (with the same filters) for the next page; null on the last page.' }),
    took_ms: Type.Integer({ description: 'Time the server spent on the request.' }),
  }),
});

const countsResponse = Type.Object({
  data: Type.Array(
    Type.Object({
      start: Type.String({ format: 'date-time', description: 'Start of the UTC bucket.' }),
      count: Type.Integer({ description: 'Posts in the bucket.' }),
      scored: Type.Optional(Type.Integer({ description: 'With `feature`: posts in the bucket that have that score.' })),
      mean: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'With `feature`: mean score of the scored posts (null when none).' })),
    }),
  ),
  meta: Type.Object({
    total: Type.Integer({ description: 'Sum of the counts.' }),
    granularity: Type.String(),
    feature: Type.Optional(Type.String()),
    took_ms: Type.Integer(),
  }),
});

const FILTERS_DOC =
  'Filters combine with AND. Time bounds apply to `sort_at` (the earlier of the record\'s createdAt and the time the network saw it). Deleted posts never appear; a post seen twice (replays) appears once.';

export const API_ROUTES: readonly ApiRoute[] = [
  {
    name: 'search',
    method: 'GET',
    summary: 'Search posts',
    description: `One page of posts matching the filters, newest first (or oldest with sort=oldest), with a keyset cursor for the next page that stays correct while new posts arrive. ${FILTERS_DOC}`,
    query: searchQuerySchema,
    response: searchResponse,
    produces: ['application/json'],
  },
  {
    name: 'export',
    method: 'GET',
    summary: 'Export posts as CSV or NDJSON',
    description: `Every post matching the filters, streamed. CSV: RFC 4180, UTF-8, header row, lists as JSON arrays, one column per enrichment score. With the row limit on (ROW_LIMIT_ENABLED, ROW_LIMIT) the export stops after ROW_LIMIT rows. ${FILTERS_DOC}`,
    query: exportQuerySchema,
    response: postSchema,
    produces: ['text/csv', 'application/x-ndjson'],
    headers: {
      'X-Row-Limit': 'The row limit in force (absent when the limit is off).',
      'X-Row-Limit-Reached': '`true` when more posts matched than the limit and the export was cut; `false` otherwise.',
      'Content-Disposition': 'attachment; filename="posts-<time>.csv"',
    },
  },
  {
    name: 'counts',
    method: 'GET',
    summary: 'Count posts per hour or day',
    description: `Posts matching the filters per UTC hour or day, for trend plots; buckets between start and end (or the first and last post) are all present, empty ones with count 0. With feature=<name>, each bucket also has the number of posts with that score and their mean. ${FILTERS_DOC}`,
    query: countsQuerySchema,
    response: countsResponse,
    produces: ['application/json'],
  },
  {
    name: 'enrich',
    method: 'POST',
    summary: 'Import model scores (NDJSON or CSV)',
    description:
      'Imports enrichment scores into post_features. Each row: `uri` (a post URI), one or more feature columns (finite numbers in [0, 1]; null or empty = not provided), optional `model` and `scored_at`. Rows with an unknown feature, a value out of range, a bad or missing uri, or malformed JSON are rejected with their line and reason; the others are written atomically as one Parquet file. A CSV whose header names an unknown column is refused as a whole (400 unknown_column). A re-sent score replaces the earlier value of that score: per feature, the value with the latest scored_at wins (ties: the later import); a feature a row leaves empty keeps its earlier value.',
    query: enrichQuerySchema,
    response: enrichResponseSchema,
    produces: ['application/json'],
    body: {
      description: 'NDJSON (one object per line) or CSV (RFC 4180, header row). Largest body: FUNCTION_MAX_BODY_BYTES.',
      content: {
        'application/x-ndjson': { schema: scoreRowSchema, example: NDJSON_EXAMPLE },
        'text/csv': { schema: Type.String({ description: 'A header row (uri, feature columns, model, scored_at), then one row per post.' }), example: CSV_EXAMPLE },
      },
    },
  },
  {
    name: 'docs',
    method: 'GET',
    path: '/docs/openapi.json',
    summary: 'This OpenAPI document',
    description: 'The OpenAPI 3.1 document of the API, generated from the schemas that validate the requests. The interactive page is at /function/docs.',
    query: Type.Object({}),
    response: Type.Object({}, { additionalProperties: true, description: 'An OpenAPI 3.1 document.' }),
    produces: ['application/json'],
  },
];
