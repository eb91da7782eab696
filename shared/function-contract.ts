/**
 * The OpenFaaS `node20-express` handler contract, as upstream defines it, plus the lifecycle hooks our
 * template adds. Every `functions/<name>/handler.ts` exports a default `Handler`; the template
 * (`template/node20-express`) and the local gateway run it the same way.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface FunctionEvent {
  /** Parsed JSON for application/json, a string for text/*, a Buffer for anything else; '' when empty. */
  body: unknown;
  /** The raw request body bytes (empty Buffer when none). */
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  method: string;
  /** Query parameters; a repeated parameter is an array. */
  query: Record<string, string | string[] | undefined>;
  /** Path below the function's root, e.g. `/openapi.json` for `/function/docs/openapi.json`. */
  path: string;
  /** Aborted when the client goes away or the process is shutting down past its grace period. */
  signal: AbortSignal;
}

/** What a handler may produce: JSON-able values, strings, Buffers, or a stream sent with back-pressure. */
export type HandlerResult = unknown | Readable | AsyncIterable<string | Uint8Array>;

export interface FunctionContext {
  status(code: number): FunctionContext;
  headers(values: Record<string, string | number | readonly string[]>): FunctionContext;
  /** Sends `value` with the status and headers set so far. */
  succeed(value: HandlerResult): void;
  /** Sends an error answer (mapped through shared/errors toErrorResponse). */
  fail(err: unknown): void;
}

export type Handler = (event: FunctionEvent, context: FunctionContext) => HandlerResult | Promise<HandlerResult>;

/** A handler module: the default export, plus optional hooks run once per process. */
export interface FunctionModule {
  default: Handler;
  /** Run before the first request (open DuckDB, connect Redis). */
  init?: () => Promise<void>;
  /** Run on SIGTERM after in-flight requests have drained. */
  destroy?: () => Promise<void>;
}
