/**
 * Housekeeping of compacted hours, run once the swap grace period has passed since a manifest switch:
 * the glob view (`<table>.parquet` and the batch files) catches up with the manifest, and superseded
 * generation files are deleted.
 *
 * The glob view is changed with back-to-back synchronous calls (rename of a prepared hard link over
 * `<table>.parquet`, then one unlink per replaced batch file), so the instant at which a plain
 * directory listing could see both the new file and a batch file is a few microseconds long. The
 * catalog never has that window: it trusts the manifest, switched long before.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { GENERATIONS_DIR, fsyncDir, writeManifest, type HourManifest } from './manifest.js';
import { compactedFileName } from '../parquet/layout.js';
import { textIndexFile } from '../parquet/text-index.js';
import { isTableName } from '../tables/index.js';

export interface PublishResult {
  /** Tables whose `<table>.parquet` now is the current generation. */
  published: number;
  /** Batch files, retired generations and leftovers of crashed runs removed. */
  filesRemoved: number;
}

function unlinkQuiet(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A hard link of `src` under a temporary name next to `dest` (a copy where links are refused). */
function prepareLink(src: string, dest: string): string {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    linkSync(src, tmp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
    copyFileSync(src, tmp);
  }
  return tmp;
}

/**
 * Brings one hour's glob view up to date and deletes what no query can still be reading. Mutates and
 * rewrites the manifest when something changed. The caller holds the compact lock.
 */
export async function publishHour(hourDir: string, manifest: HourManifest, now: number, graceMs: number): Promise<PublishResult> {
  const result: PublishResult = { published: 0, filesRemoved: 0 };
  let changed = false;
  let names: Set<string>;
  try {
    names = new Set(readdirSync(hourDir));
  } catch {
    return result;
  }
  for (const [table, entry] of Object.entries(manifest.tables)) {
    if (!isTableName(table)) continue;
    if (!entry.published && entry.switchedAt + graceMs <= now) {
      const dest = path.join(hourDir, compactedFileName(table));
      const tmp = prepareLink(path.join(hourDir, entry.file), dest);
      // The glob-visible swap: no await between these calls.
      renameSync(tmp, dest);
      for (const b of entry.replaces) if (names.has(b) && unlinkQuiet(path.join(hourDir, b))) result.filesRemoved++;
      entry.published = true;
      result.published++;
      changed = true;
    } else if (entry.published) {
      // A flush re-run after a crash can write an already merged batch file again: same rows, remove it.
      for (const b of entry.replaces) if (names.has(b) && unlinkQuiet(path.join(hourDir, b))) result.filesRemoved++;
    }
    const keep = [];
    for (const r of entry.retired) {
      if (r.at + graceMs <= now) {
        if (unlinkQuiet(path.join(hourDir, r.file))) result.filesRemoved++;
        if (unlinkQuiet(path.join(hourDir, textIndexFile(r.file)))) result.filesRemoved++;
        changed = true;
      } else keep.push(r);
    }
    entry.retired = keep;
  }
  if (changed) {
    await fsyncDir(hourDir);
    await writeManifest(hourDir, manifest);
  }
  return result;
}

/**
 * Removes what a crashed run left in the hour's generation folder: temporary files and generation files
 * the manifest does not reference (never read by anyone: the catalog only hands out referenced ones).
 */
export function removeOrphans(hourDir: string, manifest: HourManifest | undefined): number {
  const genDir = path.join(hourDir, GENERATIONS_DIR);
  let names: string[];
  try {
    names = readdirSync(genDir);
  } catch {
    names = [];
  }
  const referenced = new Set<string>();
  for (const e of Object.values(manifest?.tables ?? {})) {
    // A generation and its token index (posts) live and die together.
    for (const f of [e.file, ...e.retired.map((r) => r.file)]) {
      referenced.add(path.basename(f));
      referenced.add(path.basename(textIndexFile(f)));
    }
  }
  let removed = 0;
  for (const n of names) if (!referenced.has(n) && unlinkQuiet(path.join(genDir, n))) removed++;
  try {
    for (const n of readdirSync(hourDir)) {
      // Only our own link temporaries (`.<table>.parquet.<hex>.tmp`), never a flush's in-progress file.
      if (/^\.[a-z_]+\.parquet\.[0-9a-f]{8}\.tmp$/.test(n) && unlinkQuiet(path.join(hourDir, n))) removed++;
    }
  } catch {
    // The hour folder vanished: nothing to clean.
  }
  return removed;
}
