import type { Request } from 'express';
import { BadRequestError } from '../../shared/errors.js';
import type { FunctionEvent } from '../../shared/function-contract.js';

/** Decodes the raw body the way the upstream template does: JSON → value, text → string, else Buffer. */
export function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return '';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new BadRequestError('invalid_json', 'request body is not valid JSON', 'body', err);
    }
  }
  if (type.startsWith('text/') || type === 'application/x-www-form-urlencoded') return raw.toString('utf8');
  return raw;
}

/** The handler's view of one request. `req.body` is the raw Buffer left by express.raw(). */
export function buildEvent(req: Request, signal: AbortSignal): FunctionEvent {
  const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  return {
    body: decodeBody(rawBody, req.headers['content-type']),
    rawBody,
    headers: req.headers,
    method: req.method,
    query: req.query as FunctionEvent['query'],
    path: req.path,
    signal,
  };
}
