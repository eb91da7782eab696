/**
 * The enrich function (POST /function/enrich): imports model scores as NDJSON or CSV, validates every row
 * against the `post_features` definition and writes the accepted ones as one Parquet file. The answer
 * counts accepted and rejected rows with the reasons of the first rejections.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import { corsHeaders } from '../api/cors.js';
import { loadConfig, type Config } from '../config/index.js';
import { openDuckDB } from '../duckdb.js';
import { AppError, BadRequestError, toErrorResponse } from '../errors.js';
import type { FunctionContext, FunctionEvent, FunctionModule } from '../function-contract.js';
import { createLogger, type Logger } from '../log.js';
import { collectProcessMetrics, counter, histogram } from '../metrics.js';
import { lastPerPostAndModel, parseCsv, parseNdjson, type ParseResult } from './parse.js';
import { writeScoreFile } from './write.js';

export function enrichMetrics() {
  return {
    requests: counter({ name: 'bsky_enrich_requests_total', help: 'Enrich requests by HTTP status and code (ok when answered).', labelNames: ['status', 'code'] as const }),
    rows: counter({ name: 'bsky_enrich_rows_total', help: 'Score rows by outcome (accepted, rejected).', labelNames: ['result'] as const }),
    files: counter({ name: 'bsky_enrich_files_written_total', help: 'post_features Parquet files written.' }),
    bytes: counter({ name: 'bsky_enrich_body_bytes_total', help: 'Request body bytes received.' }),
    duration: histogram({
      name: 'bsky_enrich_duration_seconds',
      help: 'Time to validate and write one import.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
  };
}

export const ENRICH_MEDIA_TYPES = ['application/x-ndjson', 'application/jsonl', 'text/csv'] as const;

export interface EnrichAnswer {
  accepted: number;
  rejected: number;
  errors: ParseResult['errors'];
  file: string | null;
  took_ms: number;
}

export interface EnrichFunctionOptions {
  env?: Record<string, string | undefined>;
  cfg?: Config;
  duckdb?: DuckDBInstance;
  log?: Logger;
  /** Clock (ms), for tests. */
  now?: () => number;
}

function queryFlag(query: FunctionEvent['query']): boolean {
  for (const [k, v] of Object.entries(query)) {
    if (k !== 'dry_run') throw new BadRequestError('unknown_parameter', `unknown parameter "${k.slice(0, 64)}"; enrich takes only dry_run`, k.slice(0, 64));
    if (Array.isArray(v)) throw new BadRequestError('repeated_parameter', 'dry_run given more than once', 'dry_run');
    if (v !== 'true' && v !== 'false') throw new BadRequestError('invalid_parameter', 'dry_run must be true or false', 'dry_run');
  }
  return query.dry_run === 'true';
}

/** A handler module for enrich. */
export function createEnrichFunction(opts: EnrichFunctionOptions = {}): Required<FunctionModule> {
  const metrics = enrichMetrics();
  const now = opts.now ?? Date.now;
  let cfg: Config | undefined;
  let db: DuckDBInstance | undefined;
  let log: Logger | undefined;
  let starting: Promise<void> | undefined;

  async function init(): Promise<void> {
    starting ??= (async () => {
      collectProcessMetrics();
      cfg = opts.cfg ?? loadConfig(opts.env);
      log = opts.log ?? createLogger('fn:enrich', { level: cfg.runtime.logLevel });
      db = opts.duckdb ?? (await openDuckDB(cfg));
    })();
    await starting;
  }

  async function run(event: FunctionEvent): Promise<EnrichAnswer> {
    const t0 = Date.now();
    if (event.method !== 'POST') throw new AppError('method_not_allowed', 'enrich takes POST requests with NDJSON or CSV rows', 405);
    const dryRun = queryFlag(event.query);
    const type = String(event.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(ENRICH_MEDIA_TYPES as readonly string[]).includes(type)) {
      throw new AppError('unsupported_media_type', `Content-Type must be one of ${ENRICH_MEDIA_TYPES.join(', ')}`, 415, { param: 'content-type' });
    }
    const body = event.rawBody;
    metrics.bytes.inc(body.length);
    if (body.length === 0) throw new BadRequestError('empty_body', 'the request body is empty: send NDJSON or CSV rows', 'body');
    const nowMs = now();
    const parseOpts = { nowUs: BigInt(nowMs) * 1000n };
    const parsed = type === 'text/csv' ? parseCsv(body, parseOpts) : parseNdjson(body, parseOpts);
    let file: string | null = null;
    if (parsed.rows.length > 0 && !dryRun) {
      event.signal.throwIfAborted();
      file = await writeScoreFile(db!, lastPerPostAndModel(parsed.rows), { parquetDir: cfg!.storage.parquetDir, nowMs, rowGroupSize: cfg!.pipeline.rowGroupSize });
      metrics.files.inc();
    }
    metrics.rows.inc({ result: 'accepted' }, parsed.accepted);
    metrics.rows.inc({ result: 'rejected' }, parsed.rejected);
    log!.info({ accepted: parsed.accepted, rejected: parsed.rejected, file, dryRun }, 'scores imported');
    return { accepted: parsed.accepted, rejected: parsed.rejected, errors: parsed.errors, file, took_ms: Date.now() - t0 };
  }

  async function handler(event: FunctionEvent, context: FunctionContext): Promise<unknown> {
    await init();
    const cors = corsHeaders(cfg!.api.corsOrigins, event.headers, event.method);
    if (cors['access-control-allow-methods']) cors['access-control-allow-methods'] = 'POST, OPTIONS';
    context.headers(cors);
    if (event.method === 'OPTIONS') {
      context.status(204);
      return undefined;
    }
    const endTimer = metrics.duration.startTimer();
    try {
      if (event.method !== 'POST') context.headers({ allow: 'POST, OPTIONS' });
      const answer = await run(event);
      metrics.requests.inc({ status: '200', code: 'ok' });
      return answer;
    } catch (err) {
      const { status, body } = toErrorResponse(err);
      metrics.requests.inc({ status: String(status), code: body.error.code });
      throw err;
    } finally {
      endTimer();
    }
  }

  async function destroy(): Promise<void> {
    await starting?.catch(() => undefined);
    if (db && !opts.duckdb) db.closeSync();
    db = undefined;
    starting = undefined;
  }

  return { default: handler, init, destroy };
}
