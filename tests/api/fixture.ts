/**
 * Test data for the query functions: rows written as Parquet batch files in the real layout
 * (`year=/month=/day=/hour=/<table>-<batch>.parquet`, hour = indexed_at's UTC hour) with the tables'
 * own schemas (createTableSql), and a query function served over real HTTP through the template.
 */
import { mkdir, rename } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { createFunctionApp } from '../../template/node20-express/app.js';
import { tid } from '../../local-tools/generator/ids.js';
import { createApiFunction, type ApiFunctionName } from '../../shared/api/function.js';
import { sqlIdent, sqlString } from '../../shared/duckdb.js';
import { batchFilePath, batchName, hourOfTimeUs } from '../../shared/parquet/layout.js';
import { createTableSql, TABLES, withDerivedSql, type TableName } from '../../shared/tables/index.js';
import { createLogger } from '../../shared/log.js';
import type { TestEnv } from '../helpers/env.js';

type Row = Record<string, unknown>;
let batchSeq = 1;

const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

/** Writes `rows` of `table` as one batch file per indexed hour; returns the paths. */
export async function writeRows(parquetDir: string, table: TableName, rows: Row[], batch?: string): Promise<string[]> {
  const def = TABLES[table];
  const timeCol = table === 'post_features' ? 'scored_at' : 'indexed_at';
  const byHour = new Map<string, Row[]>();
  for (const r of rows) {
    const h = hourOfTimeUs(us(String(r[timeCol])));
    const key = String(h.startMs);
    byHour.set(key, [...(byHour.get(key) ?? []), r]);
  }
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const out: string[] = [];
  try {
    const name = batch ?? batchName(`${batchSeq}-0`, `${batchSeq}-1`);
    batchSeq++;
    for (const [startMs, hourRows] of byHour) {
      await conn.run(`DROP TABLE IF EXISTS t`);
      await conn.run(createTableSql(def, 't', { temp: true }));
      for (const r of hourRows) {
        const cols = Object.keys(r);
        const values: DuckDBValue[] = cols.map((c) => {
          const v = r[c];
          if (Array.isArray(v)) return JSON.stringify(v);
          return v as DuckDBValue;
        });
        const types = cols.map((c) => def.columns.find((d) => d.name === c)?.type ?? 'VARCHAR');
        await conn.run(
          `INSERT INTO t (${cols.map(sqlIdent).join(', ')}) VALUES (${cols.map((_, i) => (types[i] === 'VARCHAR[]' ? `CAST($${i + 1}::JSON AS VARCHAR[])` : `CAST($${i + 1} AS ${types[i]})`)).join(', ')})`,
          values,
        );
      }
      const file = batchFilePath(parquetDir, hourOfTimeUs(BigInt(startMs) * 1000n), table, name);
      await mkdir(path.dirname(file), { recursive: true });
      await conn.run(`COPY (${withDerivedSql(def, 't')}) TO ${sqlString(file + '.tmp')} (FORMAT parquet)`);
      await rename(file + '.tmp', file);
      out.push(file);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return out;
}

export interface PostSpec {
  did: string;
  rkey: string;
  text: string;
  /** createdAt; indexed_at defaults to it. */
  at: string;
  indexedAt?: string;
  langs?: string[];
  hashtags?: string[];
  hasMedia?: boolean;
  replyTo?: string;
}

export const uriOf = (did: string, rkey: string) => `at://${did}/app.bsky.feed.post/${rkey}`;

/** The repository revision of a commit made at `iso` (a TID of that time, as a PDS writes it). */
export const revAt = (iso: string, clockId = 0) => tid(Date.parse(iso) * 1000, clockId);

/** A posts row as the flush would write it (sort_at = the earlier of createdAt and indexed_at; rev of indexed_at). */
export function postRow(p: PostSpec): Row {
  const indexed = p.indexedAt ?? p.at;
  const sortAt = Date.parse(p.at) < Date.parse(indexed) ? p.at : indexed;
  return {
    uri: uriOf(p.did, p.rkey),
    cid: `bafy${p.rkey}`,
    author_did: p.did,
    rkey: p.rkey,
    rev: revAt(indexed),
    operation: 'create',
    text: p.text,
    created_at: p.at,
    indexed_at: indexed,
    sort_at: sortAt,
    langs: p.langs ?? [],
    reply_root_uri: p.replyTo ?? null,
    reply_parent_uri: p.replyTo ?? null,
    quote_uri: null,
    embed_type: p.hasMedia ? 'images' : null,
    has_media: p.hasMedia ?? false,
    hashtags: p.hashtags ?? [],
    mention_dids: [],
    link_urls: [],
    labels: [],
    record: JSON.stringify({ $type: 'app.bsky.feed.post', text: p.text, createdAt: p.at }),
  };
}

/** The delete of a post, stamped `at`; its commit revision defaults to that time. */
export function deleteRow(did: string, rkey: string, at: string, rev = revAt(at, 1)): Row {
  return { uri: uriOf(did, rkey), collection: 'app.bsky.feed.post', author_did: did, rkey, rev, indexed_at: at };
}

export function identityRow(did: string, handle: string, at: string, seq = 1): Row {
  return { did, handle, seq, event_time: at, indexed_at: at };
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves one query function over HTTP on a free port, through the template, with the test's config. */
export async function serve(t: { teardown(fn: () => unknown): void }, env: TestEnv, name: ApiFunctionName): Promise<Served> {
  const mod = createApiFunction(name, { cfg: env.cfg });
  await mod.init();
  const { app } = createFunctionApp(mod, { name, log: createLogger(`fn:${name}`, { level: 'silent' }) });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await mod.destroy();
  };
  t.teardown(close);
  return { url, close };
}

/** GET with a query object; returns status, headers and the body text. */
export async function get(base: string, query: Record<string, string> = {}, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const u = new URL(base + '/');
  for (const [k, v] of Object.entries(query)) u.searchParams.append(k, v);
  const res = await fetch(u, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** GET an NDJSON export; returns its records. */
export async function getNdjson(base: string, query: Record<string, string> = {}): Promise<any[]> {
  return (await get(base, { ...query, format: 'ndjson' })).text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
