import { counter, gauge, histogram } from '../metrics.js';

/** Bounded label values: a hostile or buggy stream must not create unbounded metric series. */
const MAX_COLLECTION_LABELS = 64;
const NSID = /^[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z0-9-]+)+$/;
const KINDS = new Set(['commit', 'identity', 'account']);

/** The daemon's Prometheus metrics (one set per process, on the shared registry). */
export function ingestMetrics() {
  return {
    events: counter({ name: 'ingest_events_total', help: 'Events received from Jetstream, by kind and collection.', labelNames: ['kind', 'collection'] as const }),
    bytes: counter({ name: 'ingest_bytes_total', help: 'Bytes of event JSON received from Jetstream.' }),
    written: counter({ name: 'ingest_written_total', help: 'Events written to the Redis stream.' }),
    drops: counter({ name: 'ingest_drops_total', help: 'Events dropped, by reason (stream_full, redis_oom).', labelNames: ['reason'] as const }),
    reconnects: counter({ name: 'ingest_reconnects_total', help: 'Jetstream connections opened after the first one (reconnections).' }),
    gaps: counter({ name: 'ingest_gaps_total', help: 'Gaps recorded (time ranges with missing events), by reason.', labelNames: ['reason'] as const }),
    gapSeconds: counter({ name: 'ingest_gap_seconds_total', help: 'Total length of recorded gaps in seconds, by reason.', labelNames: ['reason'] as const }),
    lag: gauge({ name: 'ingest_lag_seconds', help: 'Now minus time_us of the last event written to Redis.' }),
    connected: gauge({ name: 'ingest_connected', help: '1 while a Jetstream connection is open.' }),
    streamLength: gauge({ name: 'ingest_stream_length', help: 'Entries in the Redis stream after the last write.' }),
    pending: gauge({ name: 'ingest_pending_events', help: 'Events received but not yet written to Redis.' }),
    paused: gauge({ name: 'ingest_socket_paused', help: '1 while reading from Jetstream is paused because Redis is behind.' }),
    writeErrors: counter({ name: 'ingest_redis_write_errors_total', help: 'Failed Redis writes that were retried.' }),
    writeSeconds: histogram({
      name: 'ingest_redis_write_seconds',
      help: 'Latency of one batched write to Redis.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    batchSize: histogram({ name: 'ingest_batch_events', help: 'Events per batched write.', buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000] }),
  };
}
export type IngestMetrics = ReturnType<typeof ingestMetrics>;

/**
 * Counts events by kind/collection locally and hands the totals to prom-client once per batch, which
 * is far cheaper than a labelled inc() per event at tens of thousands of events per second.
 */
export class EventTally {
  /** kind → collection label ('' for non-commits) → count; nested maps avoid building a key per event. */
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly collections = new Set<string>();
  private bytes = 0;

  add(kind: string | undefined, collection: string | undefined, size: number): void {
    const k = kind === undefined ? 'unknown' : KINDS.has(kind) ? kind : 'other';
    let c = '';
    if (k === 'commit') {
      if (collection === undefined) c = 'unknown';
      else if (this.collections.has(collection)) c = collection;
      else if (!NSID.test(collection)) c = 'unknown';
      else if (this.collections.size < MAX_COLLECTION_LABELS) {
        this.collections.add(collection);
        c = collection;
      } else c = 'other';
    }
    let byCollection = this.counts.get(k);
    if (!byCollection) this.counts.set(k, (byCollection = new Map()));
    byCollection.set(c, (byCollection.get(c) ?? 0) + 1);
    this.bytes += size;
  }

  flushTo(m: IngestMetrics): void {
    for (const [kind, byCollection] of this.counts) {
      for (const [collection, n] of byCollection) m.events.inc({ kind, collection }, n);
    }
    this.counts.clear();
    if (this.bytes) m.bytes.inc(this.bytes);
    this.bytes = 0;
  }
}
