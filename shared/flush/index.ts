/** The flush: Redis stream → typed, hour-partitioned ZSTD Parquet, exactly once per file name. */
export { runFlush, FLUSH_TABLES, type FlushOptions, type FlushSummary } from './run.js';
export { acquireLock, type HeldLock } from './lock.js';
export { QUARANTINE_REASONS, quarantineFilePath, type QuarantineReason, type QuarantinedEntry } from './quarantine.js';
export { flushMetrics } from './metrics.js';
