/**
 * Errors that classify themselves: a stable `code`, an HTTP `status` where they face a client, the
 * offending `param` for bad requests, and the underlying `cause`. `toErrorResponse` is the one place
 * that turns any error into what a client sees: a 5xx never echoes internals.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 500,
    options: { cause?: unknown; param?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.param = options.param;
  }
  readonly param: string | undefined;
}

/** The client sent something we cannot use (HTTP 400). */
export class BadRequestError extends AppError {
  constructor(code: string, message: string, param?: string, cause?: unknown) {
    super(code, message, 400, { param, cause });
  }
}

/** A named thing does not exist (HTTP 404). */
export class NotFoundError extends AppError {
  constructor(code: string, message: string, param?: string) {
    super(code, message, 404, { param });
  }
}

/** The request was stopped to protect the service (timeouts, scan limits): HTTP 503 by default. */
export class OverloadError extends AppError {
  constructor(code: string, message: string, status = 503, cause?: unknown) {
    super(code, message, status, { cause });
  }
}

export interface ErrorBody {
  error: { code: string; message: string; param?: string };
}

/** Maps any thrown value to a status and a JSON body that is safe to show a client. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError && err.status < 500) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.param !== undefined) body.error.param = err.param;
    return { status: err.status, body };
  }
  if (err instanceof AppError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
}
