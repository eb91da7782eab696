/**
 * Jetstream v1 events as typebox schemas and TypeScript types: a discriminated union on `kind`
 * (commit / identity / account) and, for commits, on `commit.operation` (create / update / delete).
 * The envelope is checked strictly; record bodies are only required to be objects with a `$type`,
 * because real records carry whatever their client wrote (see records.ts for the typed shapes).
 * Unknown extra fields are allowed everywhere: Jetstream may add fields without a version change.
 */
import { Type, type Static } from '@sinclair/typebox';

export const DidSchema = Type.String({ pattern: '^did:[a-z]+:[a-zA-Z0-9._:%-]+$', maxLength: 2048 });
export const NsidSchema = Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9-]*(\\.[a-zA-Z0-9-]+)+$', maxLength: 317 });
export const CidSchema = Type.String({ pattern: '^b[a-z2-7]{8,}$' });
export const RkeySchema = Type.String({ minLength: 1, maxLength: 512 });
export const TimeUsSchema = Type.Integer({ minimum: 0 });

/** A record body: any object with a `$type`. */
export type AnyRecord = { $type: string; [field: string]: unknown };
export const AnyRecordSchema = Type.Unsafe<AnyRecord>(Type.Object({ $type: Type.String({ minLength: 1 }) }, { additionalProperties: true }));

const commitBase = { rev: Type.String({ minLength: 1 }), collection: NsidSchema, rkey: RkeySchema };

export const CommitCreateSchema = Type.Object({
  ...commitBase,
  operation: Type.Literal('create'),
  record: AnyRecordSchema,
  cid: CidSchema,
});
export const CommitUpdateSchema = Type.Object({
  ...commitBase,
  operation: Type.Literal('update'),
  record: AnyRecordSchema,
  cid: CidSchema,
});
export const CommitDeleteSchema = Type.Object({ ...commitBase, operation: Type.Literal('delete') });
export const CommitSchema = Type.Union([CommitCreateSchema, CommitUpdateSchema, CommitDeleteSchema]);

const envelope = { did: DidSchema, time_us: TimeUsSchema };

export const CommitCreateEventSchema = Type.Object({ ...envelope, kind: Type.Literal('commit'), commit: CommitCreateSchema });
export const CommitUpdateEventSchema = Type.Object({ ...envelope, kind: Type.Literal('commit'), commit: CommitUpdateSchema });
export const CommitDeleteEventSchema = Type.Object({ ...envelope, kind: Type.Literal('commit'), commit: CommitDeleteSchema });

export const IdentitySchema = Type.Object({
  did: DidSchema,
  handle: Type.Optional(Type.String()),
  seq: Type.Integer({ minimum: 0 }),
  time: Type.String({ minLength: 1 }),
});
export const IdentityEventSchema = Type.Object({ ...envelope, kind: Type.Literal('identity'), identity: IdentitySchema });

export const AccountSchema = Type.Object({
  active: Type.Boolean(),
  did: DidSchema,
  seq: Type.Integer({ minimum: 0 }),
  /** Present when `active` is false: deactivated, takendown, suspended, deleted, … */
  status: Type.Optional(Type.String()),
  time: Type.String({ minLength: 1 }),
});
export const AccountEventSchema = Type.Object({ ...envelope, kind: Type.Literal('account'), account: AccountSchema });

export const JetstreamEventSchema = Type.Union([
  CommitCreateEventSchema,
  CommitUpdateEventSchema,
  CommitDeleteEventSchema,
  IdentityEventSchema,
  AccountEventSchema,
]);

export type CommitCreate = Static<typeof CommitCreateSchema>;
export type CommitUpdate = Static<typeof CommitUpdateSchema>;
export type CommitDelete = Static<typeof CommitDeleteSchema>;
export type Commit = CommitCreate | CommitUpdate | CommitDelete;
export type CommitOperation = Commit['operation'];
export type CommitCreateEvent = Static<typeof CommitCreateEventSchema>;
export type CommitUpdateEvent = Static<typeof CommitUpdateEventSchema>;
export type CommitDeleteEvent = Static<typeof CommitDeleteEventSchema>;
export type CommitEvent = CommitCreateEvent | CommitUpdateEvent | CommitDeleteEvent;
export type IdentityEvent = Static<typeof IdentityEventSchema>;
export type AccountEvent = Static<typeof AccountEventSchema>;
export type JetstreamEvent = CommitEvent | IdentityEvent | AccountEvent;
export type EventKind = JetstreamEvent['kind'];

export const EVENT_KINDS = ['commit', 'identity', 'account'] as const satisfies readonly EventKind[];
export const COMMIT_OPERATIONS = ['create', 'update', 'delete'] as const satisfies readonly CommitOperation[];
