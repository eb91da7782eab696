import { counter, gauge, histogram } from '../metrics.js';

/** Prometheus metrics of the compact function (`bsky_compact_*`). */
export function compactMetrics() {
  return {
    runs: counter({ name: 'bsky_compact_runs_total', help: 'Compact runs by result (ok, locked, error).', labelNames: ['result'] as const }),
    hours: counter({ name: 'bsky_compact_hours_total', help: 'Hour partitions compacted (a re-compaction counts again).' }),
    rows: counter({
      name: 'bsky_compact_rows_total',
      help: 'Rows seen by compaction per table: in (read), out (written), duplicate and deleted (removed).',
      labelNames: ['table', 'kind'] as const,
    }),
    bytes: counter({ name: 'bsky_compact_bytes_total', help: 'Parquet bytes before (inputs) and after (outputs) compaction.', labelNames: ['stage'] as const }),
    filesRemoved: counter({ name: 'bsky_compact_files_removed_total', help: 'Replaced batch files and retired generations deleted.' }),
    duration: histogram({
      name: 'bsky_compact_duration_seconds',
      help: 'Duration of compact runs.',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    }),
    lastSuccess: gauge({ name: 'bsky_compact_last_success_timestamp_seconds', help: 'End of the last successful compact run (Unix time).' }),
  };
}
