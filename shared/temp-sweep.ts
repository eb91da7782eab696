/**
 * Temporary files and folders named after the process that made them (`<prefix><pid>-…` or
 * `<prefix><pid>`, in the OS temp folder): a process killed by SIGKILL or the OOM killer leaves them
 * behind, DuckDB's spill folders included (hundreds of MB after a failed export). Each kind of process
 * sweeps the leftovers of dead ones.
 */
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from './log.js';

/** Prefixes of the per-process temporary names (one source for the writers and the sweep). */
export const TEMP_PREFIX = {
  /** The flush's line files (shared/flush/run.ts). */
  flushLines: 'bsky-flush-',
  /** A query process's DuckDB spill folder (shared/api/runner.ts). */
  duckdbSpill: 'bsky-duckdb-',
  /** An export's candidate keys (shared/api/service.ts). */
  exportCandidates: 'bsky-export-',
  /** Lines rendered by DuckDB (shared/duckdb.ts queryLinesToFile). */
  renderedLines: 'bsky-lines-',
} as const;

/** The temporary path `<prefix><this pid>-<rest>`. */
export function ownTempPath(prefix: string, rest: string): string {
  return path.join(os.tmpdir(), `${prefix}${process.pid}-${rest}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp entries with one of `prefixes` whose process is gone. With `includeOwn`, also this
 * process's own (for a process that has not used its names yet: in a restarted container the new
 * process often has the dead one's pid). Returns the names removed.
 */
export async function sweepDeadTemp(prefixes: readonly string[], opts: { includeOwn?: boolean; log?: Logger; dir?: string } = {}): Promise<string[]> {
  const dir = opts.dir ?? os.tmpdir();
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const prefix = prefixes.find((p) => name.startsWith(p));
    if (!prefix) continue;
    const pid = Number(/^(\d+)(?:-|$)/.exec(name.slice(prefix.length))?.[1]);
    if (!pid) continue;
    if (pid === process.pid ? !opts.includeOwn : isAlive(pid)) continue;
    await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  if (removed.length) opts.log?.info({ removed }, 'removed temporary files left by dead processes');
  return removed;
}
