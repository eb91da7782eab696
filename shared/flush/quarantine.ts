/**
 * Malformed input is kept, not dropped: one NDJSON file per batch under $QUARANTINE_DIR, each line
 * `{"stream_id", "reason", "detail"?, "raw", "raw_base64"?}` with the entry as it was in the stream.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commitFile, fsyncDir, tempPathFor } from './durable.js';

/** Why an entry could not be converted (the metric label and the `reason` field). */
export const QUARANTINE_REASONS = [
  'missing_field_e',
  'invalid_utf8',
  'invalid_json',
  'not_an_object',
  'bad_did',
  'bad_time_us',
  'time_us_out_of_range',
  'unknown_kind',
  'bad_commit',
  'bad_operation',
  'bad_collection',
  'bad_rkey',
  'bad_rev',
  'bad_record',
  'bad_identity',
  'bad_account',
  'projection_error',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface QuarantinedEntry {
  stream_id: string;
  reason: QuarantineReason;
  detail?: string;
  raw: string | null;
  /** The exact bytes, when they are not valid UTF-8 (raw then shows them with replacement characters). */
  raw_base64?: string;
}

/** `<batch>.ndjson` under the quarantine folder. */
export function quarantineFilePath(quarantineDir: string, batch: string): string {
  return path.join(quarantineDir, `${batch}.ndjson`);
}

/** Writes the batch's quarantine file durably (same temp-then-rename discipline as the Parquet files). */
export async function writeQuarantine(quarantineDir: string, batch: string, entries: QuarantinedEntry[]): Promise<string | undefined> {
  if (entries.length === 0) return undefined;
  await mkdir(quarantineDir, { recursive: true });
  const target = quarantineFilePath(quarantineDir, batch);
  const tmp = tempPathFor(target);
  await writeFile(tmp, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  await commitFile(tmp, target);
  await fsyncDir(quarantineDir);
  return target;
}
