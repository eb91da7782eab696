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
  };
}
