/**
 * The per-hour compaction manifest, `hour=HH/_compaction.json`: which immutable generation file holds a
 * table's compacted rows and which batch files it already contains. The catalog trusts it; it is
 * replaced only by writing a temporary file, fsyncing it and renaming it over the old one, so every
 * reader sees either the previous or the next version whole.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

export const MANIFEST_NAME = '_compaction.json';
/** Folder (inside the hour folder) of the immutable generation files; their names end in `.pq`, not `.parquet`, so no `*.parquet` glob matches them. */
export const GENERATIONS_DIR = '.compact';

export interface RetiredFile {
  /** Path relative to the hour folder. */
  file: string;
  /** When it stopped being the current generation (ms since the epoch); unlinked a grace period later. */
  at: number;
}

export interface ManifestTable {
  /** Generation number, 1 for the first compaction of this hour and table. */
  gen: number;
  /** The generation file, relative to the hour folder (`.compact/posts.3.pq`). */
  file: string;
  /**
   * Every batch file name whose rows this generation holds (cumulative over generations). The catalog
   * ignores these names even while they still exist on disk.
   */
  replaces: string[];
  /** When this generation became current (ms since the epoch). */
  switchedAt: number;
  rows: number;
  bytes: number;
  /** True once `<table>.parquet` is this generation and the replaced batch files are gone (the glob view). */
  published: boolean;
  /** Older generation files still kept for queries that listed them. */
  retired: RetiredFile[];
  /** Deletes files (relative to the Parquet root) already applied; a new one triggers a re-compaction check. */
  deletesApplied?: number;
}

export interface HourManifest {
  version: 1;
  tables: Record<string, ManifestTable>;
}

export function emptyManifest(): HourManifest {
  return { version: 1, tables: {} };
}

/** Generation file name of a table: `.compact/<table>.<gen>.pq`. */
export function generationFile(table: string, gen: number): string {
  return `${GENERATIONS_DIR}/${table}.${gen}.pq`;
}

/** Reads an hour's manifest; undefined when the hour was never compacted. Throws on a corrupt file. */
export async function readManifest(hourDir: string): Promise<HourManifest | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(hourDir, MANIFEST_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`corrupt compaction manifest in ${hourDir}`, { cause: err });
  }
  const m = parsed as HourManifest;
  if (!m || m.version !== 1 || typeof m.tables !== 'object' || m.tables === null) {
    throw new Error(`unsupported compaction manifest in ${hourDir}`);
  }
  return m;
}

/** Writes `data` to `file` durably and atomically: temporary file, fsync, rename, fsync of the folder. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
}

/** fsync of a folder, so renames in it survive a power loss (ignored where the platform refuses). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems do not allow fsync on a directory; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

/** Atomically replaces the hour's manifest. */
export async function writeManifest(hourDir: string, m: HourManifest): Promise<void> {
  await writeFileAtomic(path.join(hourDir, MANIFEST_NAME), JSON.stringify(m, null, 1) + '\n');
}
