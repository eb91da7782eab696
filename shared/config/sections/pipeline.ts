import os from 'node:os';
import type { EnvReader } from '../env-reader.js';

/** Test-only places where the flush SIGKILLs itself (crash-safety tests); `none` in production. */
export const FLUSH_CRASH_POINTS = ['none', 'before_write', 'between_files', 'after_rename_before_ack'] as const;
export type FlushCrashPoint = (typeof FLUSH_CRASH_POINTS)[number];

/** flush and compact: how much to convert per run and when an hour counts as closed. */
export function readPipeline(r: EnvReader) {
  return {
    flushBatchSize: r.int('FLUSH_BATCH_SIZE', { default: '500000', min: 1, doc: 'Most stream entries one flush batch converts (a run does up to FLUSH_MAX_BATCHES batches).' }),
    flushSliceSize: r.int('FLUSH_SLICE_SIZE', { default: '250000', min: 1, doc: 'Most entries converted in one DuckDB pass (bounds the flush memory); a larger batch is converted slice by slice, each with its own files, acknowledged once they are durable.' }),
    flushMaxBatches: r.int('FLUSH_MAX_BATCHES', { default: '20', min: 1, doc: 'Most batches one flush run converts before it returns (the next cron run continues).' }),
    flushConsumer: r.str('FLUSH_CONSUMER', { default: '', doc: 'Consumer name of this flush in the stream group (default: the host name, i.e. the pod).' }) || os.hostname(),
    flushCrashAt: r.oneOf('FLUSH_CRASH_AT', FLUSH_CRASH_POINTS, { default: 'none', doc: 'TEST ONLY: the flush SIGKILLs itself at this point (crash-safety tests).' }),
    flushLockTtlMs: r.int('FLUSH_LOCK_TTL_MS', { default: '600000', min: 1000, doc: 'Lifetime of the flush lock (a crashed run frees it after this).' }),
    flushClaimIdleMs: r.int('FLUSH_CLAIM_IDLE_MS', { default: '120000', min: 0, doc: 'Pending entries idle this long are claimed from a dead consumer.' }),
    compactGraceMinutes: r.int('COMPACT_GRACE_MINUTES', { default: '15', min: 0, doc: 'An hour is compacted once it ended this many minutes ago.' }),
    rowGroupSize: r.int('PARQUET_ROW_GROUP_SIZE', { default: '122880', min: 1024, doc: 'Rows per Parquet row group in compacted files.' }),
    compactZstdLevel: r.int('COMPACT_ZSTD_LEVEL', {
      default: '9',
      min: 1,
      max: 22,
      doc: 'ZSTD level of compacted files (flush files use the default, 3). Measured on an hour of the generated day: 19 makes them 6% smaller than 9 at ~18x the compaction CPU (~38 s per hour of data at the spec volume on 2 cores, vs ~2 s); reading is as fast at either level.',
    }),
    pointRowGroupSize: r.int('PARQUET_POINT_ROW_GROUP_SIZE', {
      default: '8192',
      // DuckDB writes row groups in whole vectors of 2048 rows.
      min: 2048,
      doc: 'Rows per row group in compacted posts files, which search pages read row by row: on a generated day, 16384 made them 3% larger than 122880 and a page of a rare word 3-4x faster to read; 8192 another 3% larger and search p50/p95 10-15% faster than 16384.',
    }),
  };
}
