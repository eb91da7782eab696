import { Type } from '@sinclair/typebox';
import type { EnvReader } from '../env-reader.js';

/** The one DuckDB instance each process keeps. */
export function readDuckdb(r: EnvReader) {
  return {
    threads: r.int('DUCKDB_THREADS', { default: '2', min: 1, max: 256, doc: 'DuckDB worker threads per process.' }),
    memoryLimit: r.str('DUCKDB_MEMORY_LIMIT', {
      default: '1GB',
      schema: Type.String({ pattern: '^\\d+(\\.\\d+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$' }),
      expects: 'a size such as 512MB or 2GB',
      doc: 'DuckDB memory limit per process.',
    }),
    externalFileCache: r.bool('DUCKDB_EXTERNAL_FILE_CACHE', {
      default: 'true',
      doc: "DuckDB's cache of the Parquet bytes it read, kept within DUCKDB_MEMORY_LIMIT. The export function turns it off: it reads each file about once, and the cache grew its RSS by ~200 MB over a 10M-row export.",
    }),
  };
}
