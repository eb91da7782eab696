import type { EnvReader } from '../env-reader.js';

/** flush and compact: how much to convert per run and when an hour counts as closed. */
export function readPipeline(r: EnvReader) {
  return {
    flushBatchSize: r.int('FLUSH_BATCH_SIZE', { default: '500000', min: 1, doc: 'Most stream entries one flush run converts.' }),
    flushLockTtlMs: r.int('FLUSH_LOCK_TTL_MS', { default: '600000', min: 1000, doc: 'Lifetime of the flush lock (a crashed run frees it after this).' }),
    flushClaimIdleMs: r.int('FLUSH_CLAIM_IDLE_MS', { default: '120000', min: 0, doc: 'Pending entries idle this long are claimed from a dead consumer.' }),
    compactGraceMinutes: r.int('COMPACT_GRACE_MINUTES', { default: '15', min: 0, doc: 'An hour is compacted once it ended this many minutes ago.' }),
    rowGroupSize: r.int('PARQUET_ROW_GROUP_SIZE', { default: '122880', min: 1024, doc: 'Rows per Parquet row group in compacted files.' }),
  };
}
