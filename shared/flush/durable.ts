/** Durable file placement: fsync the finished file, rename it over the target, fsync the folder. */
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

/** Flushes a file's data to disk. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Flushes a folder's entries (a rename is durable only once its folder is synced). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems (and platforms) refuse fsync on a directory; the rename itself is still atomic.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await fh.close();
  }
}

/** The temporary name a file is written under before it is renamed into place (same folder). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp`);
}

/** Makes a finished temporary file durable and atomically replaces `target` with it. */
export async function commitFile(tmp: string, target: string): Promise<void> {
  await fsyncFile(tmp);
  await rename(tmp, target);
}
