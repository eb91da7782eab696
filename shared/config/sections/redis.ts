import { Type } from '@sinclair/typebox';
import type { EnvReader } from '../env-reader.js';

/** The Redis buffer: connection, key namespace and the stream's cap. */
export function readRedis(r: EnvReader) {
  return {
    url: r.url('REDIS_URL', { default: 'redis://127.0.0.1:6379', schemes: ['redis', 'rediss'], doc: 'Redis holding the event stream, cursor, gaps and locks.' }),
    /** Every key this system writes starts with this prefix, so tests and deployments can share a Redis. */
    prefix: r.str('REDIS_PREFIX', {
      default: 'bsky:',
      schema: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
      expects: '1-64 characters of A-Z a-z 0-9 _ . : -',
      doc: 'Prefix of every Redis key (stream, cursor, gaps, locks).',
    }),
    streamMaxLen: r.int('STREAM_MAXLEN', { default: '6000000', min: 1000, doc: 'Cap on buffered events: at the cap the daemon refuses (and counts) new events instead of trimming unflushed ones; ~4 h of the real firehose.' }),
  };
}
