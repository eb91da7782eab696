import path from 'node:path';
import type { EnvReader } from '../env-reader.js';

/** Where local state lives: the Parquet tree, quarantined input, a locally started Redis. */
export function readStorage(r: EnvReader) {
  const dataDir = path.resolve(r.str('DATA_DIR', { default: './data', doc: 'Root folder for local state (Parquet, quarantine, a locally started Redis).' }));
  const parquetDir = r.str('PARQUET_DIR', { default: '', doc: 'Root of the hive-partitioned Parquet tree (default: $DATA_DIR/parquet).' });
  const quarantineDir = r.str('QUARANTINE_DIR', { default: '', doc: 'Where malformed input is kept with its reason (default: $DATA_DIR/quarantine).' });
  return {
    dataDir,
    parquetDir: parquetDir ? path.resolve(parquetDir) : path.join(dataDir, 'parquet'),
    quarantineDir: quarantineDir ? path.resolve(quarantineDir) : path.join(dataDir, 'quarantine'),
  };
}
