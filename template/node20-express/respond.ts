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
  // Wait for the first chunk before committing to a 200: a query that fails at once becomes a JSON error.
  if (source instanceof Readable) {
    await firstReadable(source);
    setDefaultType(res, 'application/octet-stream');
    // pipeline honours back-pressure, ends the response, and destroys the source if the client leaves.
    await pipeline(source, res);
    return;
  }
  const it = source[Symbol.asyncIterator]();
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
      // Client gone or pipeline failed: let the producer clean up (a generator's finally blocks run).
      await it.return?.();
    }
  }
  await pipeline(rest(), res);
}

/** Resolves once `source` has data or has ended; rejects with StreamStartError if it fails first. */
function firstReadable(source: Readable): Promise<void> {
  if (source.readableLength > 0 || source.readableEnded) return Promise.resolve();
  if (source.errored) return Promise.reject(new StreamStartError('stream failed before its first chunk', { cause: source.errored }));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      source.off('readable', onReadable);
      source.off('end', onReadable);
      source.off('error', done);
      if (err) reject(new StreamStartError('stream failed before its first chunk', { cause: err }));
      else resolve();
    };
    const onReadable = () => done();
    source.once('readable', onReadable);
    source.once('end', onReadable);
    source.once('error', done);
  });
}
