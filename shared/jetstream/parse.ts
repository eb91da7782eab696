/**
 * Validation of raw Jetstream lines at the edge: `parseJetstreamEvent(line)` never throws; it returns
 * the typed event or a short reason naming the first offending field.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import {
  AccountEventSchema,
  CommitCreateEventSchema,
  CommitDeleteEventSchema,
  CommitUpdateEventSchema,
  IdentityEventSchema,
  type JetstreamEvent,
} from './events.js';

export type ParseResult = { ok: true; event: JetstreamEvent } | { ok: false; reason: string };

const checks: Record<'create' | 'update' | 'delete' | 'identity' | 'account', TypeCheck<TSchema>> = {
  create: TypeCompiler.Compile(CommitCreateEventSchema),
  update: TypeCompiler.Compile(CommitUpdateEventSchema),
  delete: TypeCompiler.Compile(CommitDeleteEventSchema),
  identity: TypeCompiler.Compile(IdentityEventSchema),
  account: TypeCompiler.Compile(AccountEventSchema),
};

function check(compiled: TypeCheck<TSchema>, value: unknown): ParseResult {
  if (compiled.Check(value)) return { ok: true, event: value as JetstreamEvent };
  const first = compiled.Errors(value).First();
  const where = first?.path ? first.path : '/';
  return { ok: false, reason: `${where}: ${first?.message ?? 'invalid'}` };
}

/** Checks an already-parsed value against the Jetstream v1 event schemas. */
export function validateJetstreamEvent(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const kind = (value as { kind?: unknown }).kind;
  switch (kind) {
    case 'commit': {
      const commit = (value as { commit?: unknown }).commit;
      if (typeof commit !== 'object' || commit === null) return { ok: false, reason: '/commit: missing or not an object' };
      const op = (commit as { operation?: unknown }).operation;
      if (op === 'create' || op === 'update' || op === 'delete') return check(checks[op], value);
      return { ok: false, reason: `/commit/operation: unknown operation ${JSON.stringify(op)}` };
    }
    case 'identity':
      return check(checks.identity, value);
    case 'account':
      return check(checks.account, value);
    default:
      return { ok: false, reason: `/kind: unknown kind ${JSON.stringify(kind)}` };
  }
}

/** Parses one raw Jetstream JSON line (text or bytes) into a typed event, or says why it cannot. */
export function parseJetstreamEvent(line: string | Buffer): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(typeof line === 'string' ? line : line.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  return validateJetstreamEvent(value);
}
