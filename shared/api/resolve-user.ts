/**
 * `username` → author DID. A DID is used as given. A handle is looked up in `identities` (the DID whose
 * latest known handle it is), then, when HANDLE_RESOLVER_URL is set, through that service's
 * `com.atproto.identity.resolveHandle`, whose answers are cached in Redis for HANDLE_CACHE_TTL_S.
 * An unknown handle is a 404 `unknown_username`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Redis } from 'ioredis';
import { NotFoundError, OverloadError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RedisKeys } from '../redis.js';
import { TABLES } from '../tables/index.js';
import { Binder, tableSql } from './sql.js';

export interface ResolveDeps {
  redis: Redis;
  keys: RedisKeys;
  log: Logger;
  resolverUrl?: string;
  cacheTtlS: number;
  /** Milliseconds allowed for the resolver's answer. */
  resolverTimeoutMs?: number;
}

/** The DID whose latest handle in `identities` is `handle` (case-insensitive), or undefined. */
export async function didFromIdentities(conn: DuckDBConnection, identityFiles: readonly string[], handle: string): Promise<string | undefined> {
  if (identityFiles.length === 0) return undefined;
  const b = new Binder();
  const h = b.bind(handle.toLowerCase());
  const ids = tableSql(b, TABLES.identities, identityFiles);
  const sql =
    `WITH cand AS (SELECT DISTINCT did FROM ${ids} WHERE lower(handle) = ${h}), ` +
    `latest AS (SELECT did, arg_max(handle, indexed_at) FILTER (WHERE handle IS NOT NULL) AS handle, max(indexed_at) AS last_at ` +
    `FROM ${ids} WHERE did IN (SELECT did FROM cand) GROUP BY did) ` +
    `SELECT did FROM latest WHERE lower(handle) = ${h} ORDER BY last_at DESC LIMIT 1`;
  const reader = await conn.runAndReadAll(sql, b.values);
  const rows = reader.getRows();
  return rows.length ? String(rows[0]![0]) : undefined;
}

/** Asks the configured resolver; undefined when it does not know the handle. */
async function didFromResolver(deps: ResolveDeps, handle: string): Promise<string | undefined> {
  const key = deps.keys.handleCache(handle);
  const cached = await deps.redis.get(key);
  if (cached) return cached;
  const url = new URL('/xrpc/com.atproto.identity.resolveHandle', deps.resolverUrl);
  url.searchParams.set('handle', handle);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(deps.resolverTimeoutMs ?? 3000), headers: { accept: 'application/json' } });
  } catch (err) {
    throw new OverloadError('handle_resolver_unavailable', 'the handle resolver did not answer; try again or use a DID', 503, err);
  }
  if (res.status === 400 || res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new OverloadError('handle_resolver_unavailable', `the handle resolver answered ${res.status}; try again or use a DID`, 503);
  }
  const body = (await res.json().catch(() => undefined)) as { did?: unknown } | undefined;
  const did = body?.did;
  if (typeof did !== 'string' || !/^did:[a-z]+:[A-Za-z0-9._:%-]+$/.test(did)) {
    throw new OverloadError('handle_resolver_unavailable', 'the handle resolver gave an unusable answer; use a DID', 503);
  }
  await deps.redis.set(key, did, 'EX', deps.cacheTtlS);
  return did;
}

/** Resolves a username already normalised by parameter parsing (no @, handles lower-cased). */
export async function resolveUsername(deps: ResolveDeps, conn: DuckDBConnection, identityFiles: readonly string[], username: string): Promise<string> {
  if (username.startsWith('did:')) return username;
  const fromTable = await didFromIdentities(conn, identityFiles, username);
  if (fromTable) return fromTable;
  if (deps.resolverUrl) {
    const did = await didFromResolver(deps, username);
    if (did) return did;
  }
  throw new NotFoundError('unknown_username', `unknown username "${username}": no account with this handle is known`, 'username');
}
