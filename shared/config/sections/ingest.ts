import { Type } from '@sinclair/typebox';
import type { EnvReader } from '../env-reader.js';

/** The ingest daemon: where it reads Jetstream from and how it resumes. */
export function readIngest(r: EnvReader) {
  return {
    jetstreamUrls: r.list('JETSTREAM_URL', {
      default: 'wss://jetstream2.us-east.bsky.network/subscribe',
      schema: Type.String({ pattern: '^wss?://' }),
      expects: 'a comma-separated list of ws:// or wss:// URLs',
      doc: 'Jetstream endpoint(s); with several, the daemon fails over to the next one.',
    }),
    wantedCollections: r.list('WANTED_COLLECTIONS', { default: '', doc: 'NSIDs or prefixes ending in .* to subscribe to (empty: everything).' }),
    wantedDids: r.list('WANTED_DIDS', { default: '', schema: Type.String({ pattern: '^did:' }), expects: 'a comma-separated list of DIDs', doc: 'Only these repositories (empty: all).' }),
    cursorRewindS: r.int('CURSOR_REWIND_S', { default: '5', min: 0, max: 3600, doc: 'Seconds subtracted from the saved cursor on (re)connect, so a reconnect leaves no gap.' }),
    cursorSaveMs: r.int('CURSOR_SAVE_MS', { default: '1000', min: 100, doc: 'How often the cursor is saved to Redis.' }),
    silenceTimeoutMs: r.int('SILENCE_TIMEOUT_MS', { default: '30000', min: 1000, doc: 'A socket silent this long is treated as dead.' }),
    reconnectBaseMs: r.int('RECONNECT_BASE_MS', { default: '500', min: 10, doc: 'First reconnect delay (doubles, with jitter).' }),
    reconnectMaxMs: r.int('RECONNECT_MAX_MS', { default: '30000', min: 100, doc: 'Cap on the reconnect delay.' }),
    pipelineMax: r.int('INGEST_PIPELINE_MAX', { default: '1000', min: 1, doc: 'Most events sent to Redis in one pipelined write.' }),
    httpPort: r.int('INGEST_HTTP_PORT', { default: '9102', min: 0, max: 65535, doc: 'Port of the daemon\'s /healthz and /metrics.' }),
    gapToleranceMs: r.int('INGEST_GAP_TOLERANCE_MS', { default: '1000', min: 0, doc: 'Slack before a late first event after a reconnect counts as a gap (beyond the rewind).' }),
    statsIntervalMs: r.int('INGEST_STATS_MS', { default: '10000', min: 100, doc: 'How often the daemon logs its stats line.' }),
    shutdownTimeoutMs: r.int('INGEST_SHUTDOWN_MS', { default: '10000', min: 100, doc: 'Longest wait for buffered events to reach Redis on SIGTERM.' }),
  };
}
