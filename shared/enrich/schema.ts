/**
 * typebox schemas of the enrich function's input and answer (for validation messages and the OpenAPI
 * document). The feature columns, their ranges and descriptions come from the `post_features` definition.
 */
import { Type } from '@sinclair/typebox';
import { FEATURE_COLUMNS } from '../tables/index.js';

/** The ?query of POST /function/enrich. */
export const enrichQuerySchema = Type.Object(
  {
    dry_run: Type.Union([Type.Literal('true'), Type.Literal('false')], {
      description: 'With `true`: validate and answer the counts without writing anything (default false).',
      default: 'false',
    }),
  },
  { additionalProperties: false },
);

/** One NDJSON line (a CSV row has the same columns, with a header row naming them). */
export const scoreRowSchema = Type.Object(
  {
    uri: Type.String({ pattern: '^at://did:[a-z]+:[A-Za-z0-9._:%-]+/app\\.bsky\\.feed\\.post/[A-Za-z0-9._:~-]{1,512}$', description: 'AT URI of the scored post.' }),
    ...Object.fromEntries(
      FEATURE_COLUMNS.map((c) => [
        c.name,
        Type.Optional(Type.Union([Type.Number({ minimum: c.feature!.min, maximum: c.feature!.max }), Type.Null()], { description: `${c.description} Absent or null: not provided.` })),
      ]),
    ),
    model: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()], { description: 'Name and version of the model that produced the scores.' })),
    scored_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the scores were computed (ISO 8601 with a zone; default: the time of the import; at most one hour ahead).' })),
  },
  { additionalProperties: false, description: 'Scores for one post: at least one feature.' },
);

export const enrichResponseSchema = Type.Object({
  accepted: Type.Integer({ description: 'Rows validated (and written unless dry_run).' }),
  rejected: Type.Integer({ description: 'Rows refused; the first ones are listed in errors.' }),
  errors: Type.Array(
    Type.Object({
      line: Type.Integer({ description: 'Line of the body where the row starts (CSV: the header is line 1).' }),
      uri: Type.Optional(Type.String()),
      reason: Type.String(),
    }),
    { description: 'The first rejected rows (at most 100) with the reason.' },
  ),
  file: Type.Union([Type.String(), Type.Null()], { description: 'The Parquet file written, relative to the Parquet root; null when nothing was written.' }),
  took_ms: Type.Integer(),
});

export const NDJSON_EXAMPLE =
  '{"uri":"at://did:plc:abc123/app.bsky.feed.post/3l2abc","toxicity_score":0.91,"political_score":0.2,"model":"inhouse-v3"}\n' +
  '{"uri":"at://did:plc:abc123/app.bsky.feed.post/3l2abd","perspective_toxicity":0.05,"model":"perspective"}\n';

export const CSV_EXAMPLE =
  'uri,toxicity_score,political_score,model,scored_at\r\n' + 'at://did:plc:abc123/app.bsky.feed.post/3l2abc,0.91,0.2,inhouse-v3,2026-07-01T12:00:00Z\r\n';
