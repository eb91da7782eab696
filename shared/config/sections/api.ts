import type { EnvReader } from '../env-reader.js';

/** The research API's feature flags and limits. */
export function readApi(r: EnvReader) {
  const pageDefault = r.int('PAGE_DEFAULT', { default: '50', min: 1, doc: 'search: results per page when limit is not given.' });
  const pageMax = r.int('PAGE_MAX', { default: '500', min: 1, doc: 'search: largest limit accepted.' });
  if (pageDefault > pageMax) r.problems.push({ env: 'PAGE_DEFAULT', got: String(pageDefault), expects: `at most PAGE_MAX (${pageMax})` });
  return {
    pageDefault,
    pageMax,
    rowLimitEnabled: r.bool('ROW_LIMIT_ENABLED', { default: 'true', doc: 'export: stop at ROW_LIMIT rows (and say so in a header).' }),
    rowLimit: r.int('ROW_LIMIT', { default: '1000', min: 1, doc: 'export: the row limit when ROW_LIMIT_ENABLED.' }),
    searchTextIndex: r.bool('SEARCH_TEXT_INDEX', { default: 'true', doc: 'search: look text up in the token indexes of compacted posts files and read only the row groups that can match (false: scan every text).' }),
    exportRunRows: r.int('EXPORT_RUN_ROWS', {
      default: '40000',
      min: 1,
      doc: 'export without a small row limit: it streams in runs of consecutive minutes of sort_at of at most this many candidate posts for CSV, four fifths of it for NDJSON (whose lines are ~1.5x longer); a busier minute is a run alone. Each run is read, rendered and sorted by one statement, so memory holds about one run of output lines whatever the export size; larger runs are faster and hold more (bench:query, 1M CSV rows as stack.yml runs the export: runs of 30k 217-277k rows/s at 251-253 MB peak RSS, of 40k 262-287k at 268-271 MB).',
    }),
    exportPartitionRows: r.int('EXPORT_PARTITION_ROWS', {
      default: '250000',
      min: 1,
      doc: 'export without a small row limit: before the runs, the candidates are deduplicated and joined to their deletes, scores and handles in parts of at most this many (by hash of the uri), so that those joins hold one part at a time (1M candidates in one part peaked ~80 MB higher than in four).',
    }),
    countsPartitionRows: r.int('COUNTS_PARTITION_ROWS', {
      default: '30000000',
      min: 1,
      doc: 'counts without a text, username or feature filter: posts deduplicated per pass (by hash of the uri; each pass reads the range again). A month (68.5M posts) in one pass held ~3 GB at DUCKDB_MEMORY_LIMIT=1GB; in passes of 34M, 1.3 GB.',
    }),
    corsOrigins: r.list('CORS_ORIGINS', { default: '*', doc: 'Origins allowed to call the API from a browser (* for any).' }),
    queryTimeoutMs: r.int('QUERY_TIMEOUT_MS', { default: '15000', min: 100, doc: 'A query running longer is interrupted with a 503.' }),
    queryConcurrency: r.int('QUERY_CONCURRENCY', { default: '2', min: 1, max: 256, doc: 'Queries one function process runs at once; more wait in a queue (DuckDB shares its threads, so running more only makes each slower).' }),
    queryQueueMax: r.int('QUERY_QUEUE_MAX', { default: '100', min: 0, doc: 'Requests allowed to wait for a query slot; beyond that a 503 overloaded at once.' }),
    queryQueueTimeoutMs: r.int('QUERY_QUEUE_TIMEOUT_MS', { default: '30000', min: 1, doc: 'Longest wait for a query slot before a 503 overloaded (QUERY_TIMEOUT_MS starts once admitted).' }),
    handleResolverUrl: r.optionalUrl('HANDLE_RESOLVER_URL', { schemes: ['http', 'https'], doc: 'Service answering com.atproto.identity.resolveHandle for handles not in identities (unset: none).' }),
    handleCacheTtlS: r.int('HANDLE_CACHE_TTL_S', { default: '3600', min: 1, doc: 'How long a handle resolved through HANDLE_RESOLVER_URL stays cached in Redis (seconds).' }),
    maxScanBytes: r.int('QUERY_MAX_SCAN_BYTES', { default: '50000000000', min: 0, doc: 'A query whose Parquet files total more than this many bytes is refused with a 400 query_too_large (0: no limit).' }),
    indexSlackMinutes: r.int('QUERY_INDEX_SLACK_MINUTES', { default: '60', min: 0, max: 100000, doc: 'Partition pruning for `end`: posts indexed more than this long after their sort_at (backdated createdAt) may be missed by a range query ending before their indexing hour.' }),
  };
}
