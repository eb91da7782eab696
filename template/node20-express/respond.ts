import type { Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

type Chunk = string | Uint8Array;

/** True for a Node Readable or any async iterable (but not strings or Buffers). */
export function isStreamLike(value: unknown): value is Readable | AsyncIterable<Chunk> {
  if (value === null || typeof value !== 'object') return false;
  if (value instanceof Readable) return true;
  return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

function setDefaultType(res: Response, type: string): void {
  if (!res.getHeader('content-type')) res.setHeader('content-type', type);
}

/**
 * Writes a handler's result: Buffer as is, string as text/plain, a stream with back-pressure,
 * anything else as JSON; a content-type the handler set always wins. Resolves when the answer is
 * complete; rejects if a stream fails (before its first chunk the caller can still send an error).
 */
export async function sendResult(res: Response, value: unknown): Promise<void> {
  if (value === undefined || value === null) {
    res.end();
    return;
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    setDefaultType(res, 'application/octet-stream');
    res.end(value);
    return;
  }
  if (typeof value === 'string') {
    setDefaultType(res, 'text/plain; charset=utf-8');
    res.end(value);
    return;
  }
  if (isStreamLike(value)) {
    await sendStream(res, value);
    return;
  }
  setDefaultType(res, 'application/json; charset=utf-8');
  res.end(JSON.stringify(value));
}

/** Thrown when a stream failed before anything was written, so a proper error answer is still possible. */
export class StreamStartError extends Error {}

async function sendStream(res: Response, source: Readable | AsyncIterable<Chunk>): Promise<void> {
  const it = (source as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
  // Pull the first chunk before committing to a 200: a query that fails at once becomes a JSON error.
  let first: IteratorResult<Chunk>;
  try {
    first = await it.next();
  } catch (err) {
    throw new StreamStartError('stream failed before its first chunk', { cause: err });
  }
  setDefaultType(res, 'application/octet-stream');
  async function* rest(): AsyncGenerator<Chunk> {
    try {
      if (!first.done) yield first.value;
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      // Client gone or pipeline failed: stop the producer (destroys a Readable, finishes a generator).
      await it.return?.();
    }
  }
  // pipeline waits for 'drain' on every full write (back-pressure) and ends the response.
  await pipeline(rest(), res);
}
