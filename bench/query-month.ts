/**
 * The month dataset of `bench:query --month`: the day dataset's compacted tree repeated over 30 days.
 *
 * Why not generate 30 days: the day takes ~8 minutes through Redis, the flush and compaction on this
 * machine, a month would take 4 hours. Day k (0–29) holds the same posts as day 0 with every time moved
 * k days later and every URI and rkey suffixed `~k` (so the month has 30 × as many distinct posts;
 * rkeys are fixed-length TIDs, so the suffix keeps the `(sort_at, uri)` order of the compacted files).
 * Each hour is written as compaction leaves it: the posts generation in its original row order and row
 * groups (its token index stays valid and is hard-linked), `posts.parquet` linked to it, and a manifest.
 * Deletes and scores (post_features batch files, as enrichment imports leave them) follow the posts'
 * URIs and times; identity events repeat every day with their times moved (the same authors announce
 * the same handles again: a month holds 30 days of identities files, as production would).
 *
 * What this does not model: texts repeat every day, so a word's hits are spread evenly over the month.
 */
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { generationFile, MANIFEST_NAME, readManifest, type HourManifest } from '../shared/compact/manifest.js';
import { sqlString } from '../shared/duckdb.js';
import { listHourDirs, listHourTableFiles } from '../shared/parquet/catalog.js';
import { batchFilePath, batchName, compactedFileName, hourOfMs, partitionDir } from '../shared/parquet/layout.js';
import { textIndexFile } from '../shared/parquet/text-index.js';
import { TABLES, withDerivedSql, type TableName } from '../shared/tables/index.js';

const DAY_MS = 86_400_000;

/** `SELECT *` of a table's file with its times moved `k` days and its URI-like columns suffixed. */
function shiftedSql(table: TableName, file: string, k: number): string {
  const columns = new Set(TABLES[table].columns.map((c) => c.name));
  const suffix = sqlString(`~${k}`);
  const replace: string[] = [];
  for (const c of ['uri', 'rkey']) if (columns.has(c)) replace.push(`${c} || ${suffix} AS ${c}`);
  for (const c of ['created_at', 'indexed_at', 'sort_at']) if (columns.has(c)) replace.push(`${c} + INTERVAL ${k} DAY AS ${c}`);
  const shifted = `SELECT * REPLACE (${replace.join(', ')}) FROM read_parquet(${sqlString(file)})`;
  // Derived columns (uri_key) follow the shifted uri; a source file without them gets them.
  return withDerivedSql(TABLES[table], `(${shifted})`);
}

export interface MonthSummary {
  days: number;
  hours: number;
  files: number;
}

/**
 * Writes `days` days under `monthParquet` from the compacted day tree under `dayParquet`. Day 0 is hard
 * links to the day's files. `rowGroupSize` is the posts generation's row-group size (kept, so that the
 * token index's row ranges and row-group pruning behave as in production).
 */
export async function buildMonth(
  conn: DuckDBConnection,
  dayParquet: string,
  monthParquet: string,
  days: number,
  rowGroupSize: number,
  progress: (s: string) => void,
): Promise<MonthSummary> {
  await rm(monthParquet, { recursive: true, force: true });
  // Row order must be the source's: the token index names rows by number.
  await conn.run('SET preserve_insertion_order = true');
  const hours = await listHourDirs(dayParquet);
  const summary: MonthSummary = { days, hours: 0, files: 0 };
  const t0 = performance.now();
  const firstHourMs = hours[0]!.hour.startMs;
  for (let k = 0; k < days; k++) {
    for (const { dir: src, hour: srcHour } of hours) {
      const manifest = (await readManifest(src)) ?? { version: 1, tables: {} };
      const hour = hourOfMs(srcHour.startMs + k * DAY_MS);
      const dest = partitionDir(monthParquet, hour);
      // The day's last events spill into the next day's first hours, which day k + 1 compacts: there
      // they are a late batch file beside that hour's generation, as a late flush would leave them.
      const spill = srcHour.startMs >= firstHourMs + DAY_MS && k < days - 1;
      await mkdir(path.join(dest, '.compact'), { recursive: true });
      // Scores: batch files (enrichment imports), one per hour, URIs suffixed as the posts'.
      for (const from of await listHourTableFiles(src, 'post_features')) {
        const to = batchFilePath(monthParquet, hour, 'post_features', batchName(`${k + 1}-0`, `${k + 1}-1`));
        if (k === 0) await link(from, to);
        else await conn.run(`COPY (${shiftedSql('post_features', from, k)}) TO ${sqlString(to)} (FORMAT parquet, COMPRESSION zstd)`);
        summary.files++;
      }
      const out: HourManifest = { version: 1, tables: {} };
      for (const [table, entry] of Object.entries(manifest.tables) as [TableName, HourManifest['tables'][string]][]) {
        if (table !== 'posts' && table !== 'deletes' && table !== 'identities') continue;
        const from = path.join(src, entry.file);
        const to = spill ? batchFilePath(monthParquet, hour, table, batchName(`${k + 1}-2`, `${k + 1}-3`)) : path.join(dest, generationFile(table, 1));
        if (k === 0) await link(from, to);
        else {
          const rg = table === 'posts' ? `, ROW_GROUP_SIZE ${Math.trunc(rowGroupSize)}` : '';
          await conn.run(`COPY (${shiftedSql(table, from, k)}) TO ${sqlString(to)} (FORMAT parquet, COMPRESSION zstd${rg})`);
        }
        summary.files++;
        if (spill) continue;
        if (table === 'posts') await link(textIndexFile(from), textIndexFile(to));
        await link(to, path.join(dest, compactedFileName(table)));
        out.tables[table] = { ...entry, gen: 1, file: generationFile(table, 1), replaces: [], published: true, retired: [] };
      }
      if (spill || Object.keys(out.tables).length === 0) continue;
      await writeFile(path.join(dest, MANIFEST_NAME), JSON.stringify(out));
      summary.hours++;
    }
    progress(`  month: day ${k + 1}/${days} written (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  return summary;
}
