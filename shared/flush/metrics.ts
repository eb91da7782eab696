/** Prometheus metrics of the flush (bsky_flush_*), on the process registry of shared/metrics. */
import { counter, gauge, histogram } from '../metrics.js';

export function flushMetrics() {
  return {
    runs: counter({ name: 'bsky_flush_runs_total', help: 'Flush runs by result (ok, error, locked).', labelNames: ['result'] as const }),
    duration: histogram({
      name: 'bsky_flush_duration_seconds',
      help: 'Duration of flush runs that took the lock.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    }),
    batches: counter({ name: 'bsky_flush_batches_total', help: 'Batches converted, by source (own_pending, claimed, new).', labelNames: ['source'] as const }),
    eventsRead: counter({ name: 'bsky_flush_events_read_total', help: 'Stream entries read and converted or quarantined.' }),
    claimed: counter({ name: 'bsky_flush_claimed_total', help: 'Pending entries taken over from another consumer (XAUTOCLAIM).' }),
    rows: counter({ name: 'bsky_flush_rows_total', help: 'Rows written to Parquet, by table.', labelNames: ['table'] as const }),
    files: counter({ name: 'bsky_flush_files_written_total', help: 'Parquet files renamed into place, by table.', labelNames: ['table'] as const }),
    quarantined: counter({ name: 'bsky_flush_quarantined_total', help: 'Entries sent to quarantine, by reason.', labelNames: ['reason'] as const }),
    duplicates: counter({ name: 'bsky_flush_duplicates_dropped_total', help: 'Replayed events dropped inside a batch.' }),
    lockContention: counter({ name: 'bsky_flush_lock_contention_total', help: 'Runs that found the flush lock held by another run.' }),
    lastSuccess: gauge({ name: 'bsky_flush_last_success_timestamp_seconds', help: 'Unix time of the last flush run that ended without error.' }),
    lagEntries: gauge({ name: 'bsky_flush_stream_length', help: 'Entries left in the stream after the last run.' }),
  };
}
export type FlushMetrics = ReturnType<typeof flushMetrics>;
