import { counter, gauge, histogram } from '../metrics.js';

/** The research API's metrics (`bsky_api_*`), beside the template's per-function HTTP metrics. */
export function apiMetrics() {
  return {
    requests: counter({
      name: 'bsky_api_requests_total',
      help: 'API requests by function, HTTP status and error code (ok when answered).',
      labelNames: ['function', 'status', 'code'] as const,
    }),
    latency: histogram({
      name: 'bsky_api_query_duration_seconds',
      help: 'Time to answer (search, counts) or to the first row (export), by function.',
      labelNames: ['function'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    rows: counter({ name: 'bsky_api_rows_returned_total', help: 'Rows (posts or buckets) returned, by function.', labelNames: ['function'] as const }),
    scanBytes: counter({
      name: 'bsky_api_scan_bytes_total',
      help: 'Estimated bytes scanned: total size of the Parquet files a query was given, by function.',
      labelNames: ['function'] as const,
    }),
    queries: gauge({
      name: 'bsky_api_queries',
      help: 'Queries running and requests waiting for a query slot (QUERY_CONCURRENCY, QUERY_QUEUE_MAX), by function.',
      labelNames: ['function', 'state'] as const,
    }),
    timeouts: counter({ name: 'bsky_api_query_timeouts_total', help: 'Queries interrupted for running past QUERY_TIMEOUT_MS.', labelNames: ['function'] as const }),
  };
}
export type ApiMetrics = ReturnType<typeof apiMetrics>;
