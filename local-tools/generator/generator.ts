/**
 * The event generator: a deterministic stream of Jetstream v1 JSON lines for a seed, sorted by
 * strictly increasing `time_us`, with the real mix of kinds and collections. `EventGenerator.next()`
 * also exposes what it just made (`meta`) so the CLI can count ground truth without re-parsing.
 */
import type { AccountStatus } from '../../shared/jetstream/collections.js';
import type { CommitOperation, EventKind } from '../../shared/jetstream/events.js';
import type { StrongRef } from '../../shared/jetstream/records.js';
import { recordCid, tid } from './ids.js';
import { ACTIONS, IDENTITY_ACCOUNT_PAIR, MIXES, type Action, type MixName } from './mix.js';
import * as other from './other-records.js';
import { DeletablePool, Population, Ring, type PostRef } from './population.js';
import { buildPost } from './posts.js';
import { AliasTable, hash32, Rng } from './prng.js';
import { createdAt, newRkey, subjectPost, viaRepost, type GenState } from './state.js';
import { PLANTED_PHRASES } from './text-model.js';
import { Clock, isoMillis } from './time.js';

export interface GenerateOptions {
  /** Number of events to produce. */
  events: number;
  seed?: string | number;
  /** First event time: ISO string, Date, or epoch milliseconds. */
  start?: string | Date | number;
  /** Average events per second. */
  rate?: number;
  /** A named mix or explicit weights per action. */
  mix?: MixName | Partial<Record<Action, number>>;
  /** Size of the account population (default grows with `events`). */
  accounts?: number;
}

export const DEFAULT_SEED = 'bsky';
export const DEFAULT_START = '2026-07-01T00:00:00.000Z';
export const DEFAULT_RATE = 400;

export interface PlantedPost {
  id: string;
  phrase: string;
  uri: string;
  text: string;
  time_us: number;
}

export interface EventMeta {
  kind: EventKind;
  /** Commit operation, or undefined for identity/account. */
  operation: CommitOperation | undefined;
  collection: string | undefined;
  timeUs: number;
  /** Set when the event is a post carrying a planted phrase. */
  planted: PlantedPost | undefined;
  /** The line is pure ASCII (writers may copy it without UTF-8 encoding). */
  ascii: boolean;
}

const EARLY_PLANTS = new Set([10, 100, 300, 600, 1000, 2000]);

/** Post ordinals that carry a planted phrase: six early ones, then one every 25,000 posts. */
export function isPlantedOrdinal(n: number): boolean {
  return EARLY_PLANTS.has(n) || (n >= 10_000 && n % 25_000 === 10_000);
}

const DELETE_TARGET: Partial<Record<Action, string>> = {
  deleteLike: 'app.bsky.feed.like',
  deleteFollow: 'app.bsky.graph.follow',
  deletePost: 'app.bsky.feed.post',
  deleteRepost: 'app.bsky.feed.repost',
  deleteBlock: 'app.bsky.graph.block',
  deleteListitem: 'app.bsky.graph.listitem',
};

const ACCOUNT_STATUS_WEIGHTS: ReadonlyArray<readonly [AccountStatus, number]> = [
  ['deactivated', 45],
  ['deleted', 25],
  ['takendown', 20],
  ['suspended', 5],
  ['desynchronized', 3],
  ['throttled', 2],
];

// Go's encoding/json (Jetstream's encoder) escapes these; JSON.stringify does not.
const GO_ESCAPE = /[<>&\u2028\u2029]/;
const GO_ESCAPE_ALL = /[<>&\u2028\u2029]/g;
function goEscape(c: string): string {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

/** JSON text of a record, escaped like Jetstream's Go encoder. */
function toJson(record: object): string {
  const json = JSON.stringify(record);
  return GO_ESCAPE.test(json) ? json.replace(GO_ESCAPE_ALL, goEscape) : json;
}

/** `{"cid":…,"uri":…}` for identifiers that need no escaping. */
function refJson(ref: StrongRef): string {
  return `{"cid":"${ref.cid}","uri":"${ref.uri}"}`;
}

function parseStart(start: GenerateOptions['start']): number {
  const ms = start === undefined ? Date.parse(DEFAULT_START) : start instanceof Date ? start.getTime() : typeof start === 'number' ? start : Date.parse(start);
  if (!Number.isFinite(ms)) throw new Error(`invalid start time: ${String(start)}`);
  return ms * 1000;
}

export class EventGenerator implements GenState {
  readonly rng: Rng;
  readonly pop: Population;
  readonly recentPosts = new Ring<PostRef>(20_000);
  readonly popularPosts = new Ring<PostRef>(2_000);
  readonly reposts = new Ring<StrongRef>(5_000);
  readonly lists = new Ring<string>(2_000);
  nowUs = 0;
  readonly meta: EventMeta = { kind: 'commit', operation: undefined, collection: undefined, timeUs: 0, planted: undefined, ascii: true };

  private readonly total: number;
  private produced = 0;
  private postsMade = 0;
  private readonly clock: Clock;
  private readonly table: AliasTable;
  private readonly actions: Action[];
  private readonly statusTable = new AliasTable(ACCOUNT_STATUS_WEIGHTS.map(([, w]) => w));
  private readonly deletable = new Map<string, DeletablePool>();
  private pendingAccountFor: number | undefined;
  private plantedCount = 0;
  /** CID of the last commit built (posts and reposts are remembered with it). */
  private lastCid = '';
  private readonly seqBase: number;

  constructor(opts: GenerateOptions) {
    if (!Number.isInteger(opts.events) || opts.events < 0) throw new Error(`events must be a non-negative integer, got ${opts.events}`);
    const rate = opts.rate ?? DEFAULT_RATE;
    if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`rate must be a positive number, got ${rate}`);
    const seed = String(opts.seed ?? DEFAULT_SEED);
    this.total = opts.events;
    this.rng = new Rng(seed);
    const accounts = opts.accounts ?? Math.min(3_000_000, Math.max(5_000, Math.round(opts.events / 12)));
    this.pop = new Population(accounts, hash32(seed, 0x9090));
    this.clock = new Clock(this.rng, parseStart(opts.start), rate, opts.events);
    const weights = typeof opts.mix === 'object' ? opts.mix : MIXES[opts.mix ?? 'real'];
    if (!weights) throw new Error(`unknown mix: ${String(opts.mix)}`);
    this.actions = ACTIONS.filter((a) => (weights[a] ?? 0) > 0);
    this.table = new AliasTable(this.actions.map((a) => weights[a] as number));
    for (const collection of Object.values(DELETE_TARGET)) this.deletable.set(collection, new DeletablePool(50_000));
    this.seqBase = 30_000_000_000 + (hash32(seed, 7) % 1_000_000_000);
  }

  /** The next JSON line, or undefined when `events` lines have been produced. */
  next(): string | undefined {
    if (this.produced >= this.total) return undefined;
    const t = this.clock.next();
    this.nowUs = t;
    this.meta.timeUs = t;
    this.meta.planted = undefined;
    let line: string;
    if (this.pendingAccountFor !== undefined) {
      line = this.account(this.pendingAccountFor, true);
      this.pendingAccountFor = undefined;
    } else line = this.build(this.actions[this.table.sample(this.rng)] as Action);
    this.produced++;
    return line;
  }

  /** A commit event around an already-serialised record. */
  private commitJson(author: number, operation: 'create' | 'update', collection: string, rkey: string, recordJson: string, ascii: boolean): string {
    const did = this.pop.did(author);
    const m = this.meta;
    m.ascii = ascii;
    m.kind = 'commit';
    m.operation = operation;
    m.collection = collection;
    const rev = tid(this.nowUs - this.rng.int(50_000), this.pop.clockId(author));
    const cid = recordCid(this.rng);
    this.lastCid = cid;
    return `{"did":"${did}","time_us":${this.nowUs},"kind":"commit","commit":{"rev":"${rev}","operation":"${operation}","collection":"${collection}","rkey":"${rkey}","record":${recordJson},"cid":"${cid}"}}`;
  }

  private commit(author: number, operation: 'create' | 'update', collection: string, rkey: string, record: object): string {
    return this.commitJson(author, operation, collection, rkey, toJson(record), false);
  }

  /** A create whose record key is remembered so a later delete can refer to it. */
  private create(author: number, collection: string, record: object | string, rkey = newRkey(this, author)): string {
    const pool = this.deletable.get(collection);
    if (pool) pool.add(this.rng, author, rkey);
    // Hand-serialised records are built from identifiers and timestamps only: ASCII.
    return typeof record === 'string'
      ? this.commitJson(author, 'create', collection, rkey, record, true)
      : this.commitJson(author, 'create', collection, rkey, toJson(record), false);
  }

  private build(action: Action): string {
    const rng = this.rng;
    const pop = this.pop;
    switch (action) {
      case 'like': {
        const author = pop.pick(rng, 0.75);
        const subject = subjectPost(this);
        const via = rng.float() < 0.12 ? `,"via":${refJson(viaRepost(this))}` : '';
        return this.create(author, 'app.bsky.feed.like', `{"$type":"app.bsky.feed.like","createdAt":"${createdAt(this)}","subject":${refJson(subject)}${via}}`);
      }
      case 'repost': {
        const author = pop.pick(rng, 0.75);
        const subject = subjectPost(this);
        const via = rng.float() < 0.08 ? `,"via":${refJson(viaRepost(this))}` : '';
        const rkey = newRkey(this, author);
        const line = this.create(
          author,
          'app.bsky.feed.repost',
          `{"$type":"app.bsky.feed.repost","createdAt":"${createdAt(this)}","subject":${refJson(subject)}${via}}`,
          rkey,
        );
        this.reposts.push({ cid: this.lastCid, uri: `at://${pop.did(author)}/app.bsky.feed.repost/${rkey}` });
        return line;
      }
      case 'follow':
      case 'block': {
        const author = pop.pick(rng, 0.7);
        let subject = pop.pick(rng, action === 'follow' ? 0.95 : 0.9);
        if (subject === author) subject = (subject + 1) % pop.size;
        const collection = action === 'follow' ? 'app.bsky.graph.follow' : 'app.bsky.graph.block';
        return this.create(author, collection, `{"$type":"${collection}","createdAt":"${createdAt(this)}","subject":"${pop.did(subject)}"}`);
      }
      case 'post':
        return this.post();
      case 'listitem':
        return this.create(pop.pick(rng, 0.9), 'app.bsky.graph.listitem', {
          $type: 'app.bsky.graph.listitem',
          createdAt: createdAt(this),
          list: other.someList(this),
          subject: pop.did(pop.pick(rng, 0.8)),
        });
      case 'profileUpdate': {
        const author = pop.pick(rng, 0.6);
        return this.commit(author, 'update', 'app.bsky.actor.profile', 'self', other.profileRecord(this, author, false));
      }
      case 'profileCreate': {
        const author = rng.int(pop.size);
        return this.commit(author, 'create', 'app.bsky.actor.profile', 'self', other.profileRecord(this, author, true));
      }
      case 'deleteLike':
      case 'deleteFollow':
      case 'deletePost':
      case 'deleteRepost':
      case 'deleteBlock':
      case 'deleteListitem':
        return this.delete(DELETE_TARGET[action] as string);
      case 'identity':
        return this.identity();
      case 'account':
        return this.account(rng.int(pop.size), false);
      case 'threadgate':
      case 'postgate': {
        const p = this.recentPosts.recent(rng);
        if (!p) return this.build('like');
        const collection = action === 'threadgate' ? 'app.bsky.feed.threadgate' : 'app.bsky.feed.postgate';
        const record = action === 'threadgate' ? other.threadgateRecord(this, p.uri) : other.postgateRecord(this, p.uri);
        return this.commit(p.author, 'create', collection, p.rkey, record);
      }
      case 'chatDeclaration':
        return this.commit(rng.int(pop.size), 'create', 'chat.bsky.actor.declaration', 'self', other.chatDeclarationRecord(this));
      case 'frontpagePost':
        return this.create(pop.pick(rng, 0.9), 'fyi.unravel.frontpage.post', other.frontpagePostRecord(this));
      case 'tangledStar':
        return this.create(pop.pick(rng, 0.9), 'sh.tangled.feed.star', other.tangledStarRecord(this));
      case 'tangledRepo':
        return this.create(pop.pick(rng, 0.9), 'sh.tangled.repo', other.tangledRepoRecord(this));
      case 'tangledFollow':
        return this.create(pop.pick(rng, 0.9), 'sh.tangled.graph.follow', other.tangledFollowRecord(this));
      case 'tealStatus':
        return this.commit(pop.pick(rng, 0.9), 'update', 'fm.teal.alpha.actor.status', 'self', other.tealStatusRecord(this));
      case 'actorStatus':
        return this.commit(pop.pick(rng, 0.9), rng.float() < 0.3 ? 'create' : 'update', 'app.bsky.actor.status', 'self', other.actorStatusRecord(this));
      case 'list': {
        const author = pop.pick(rng, 0.9);
        const rkey = newRkey(this, author);
        this.lists.push(`at://${pop.did(author)}/app.bsky.graph.list/${rkey}`);
        return this.create(author, 'app.bsky.graph.list', other.listRecord(this), rkey);
      }
      case 'starterpack':
        return this.create(pop.pick(rng, 0.9), 'app.bsky.graph.starterpack', other.starterpackRecord(this, other.someList(this)));
      case 'feedGenerator': {
        const author = pop.pick(rng, 0.9);
        return this.create(author, 'app.bsky.feed.generator', other.feedGeneratorRecord(this), other.feedRkey(this));
      }
      case 'streamPlace': {
        const author = pop.pick(rng, 0.9);
        const record = other.streamPlaceRecord(this, pop.did(author));
        return this.commit(author, 'update', 'place.stream.broadcast.origin', `${pop.did(author)}::${record.server as string}`, record);
      }
      default: {
        const unreachable: never = action;
        throw new Error(`unhandled action ${String(unreachable)}`);
      }
    }
  }

  private post(): string {
    const ordinal = this.postsMade++;
    const plant = isPlantedOrdinal(ordinal) ? PLANTED_PHRASES[this.plantedCount++ % PLANTED_PHRASES.length] : undefined;
    const author = this.pop.pick(this.rng, 0.85);
    const { record, root } = buildPost(this, author, plant);
    const rkey = newRkey(this, author);
    const line = plant
      ? this.commit(author, 'create', 'app.bsky.feed.post', rkey, record)
      : this.create(author, 'app.bsky.feed.post', record, rkey);
    const uri = `at://${this.pop.did(author)}/app.bsky.feed.post/${rkey}`;
    const cid = this.lastCid;
    const ref: PostRef = { author, rkey, uri, cid, rootUri: root ? root.rootUri : uri, rootCid: root ? root.rootCid : cid };
    this.recentPosts.push(ref);
    if (this.pop.isPopular(author)) this.popularPosts.push(ref);
    if (plant) this.meta.planted = { id: plant.id, phrase: plant.phrase, uri, text: record.text, time_us: this.nowUs };
    return line;
  }


  private delete(collection: string): string {
    const target = this.deletable.get(collection)?.take(this.rng);
    if (!target) return this.build('like');
    const m = this.meta;
    m.kind = 'commit';
    m.ascii = true;
    m.operation = 'delete';
    m.collection = collection;
    // A PDS orders a repository's commits: the delete's revision is never before its record's (whose
    // revision is drawn up to 50 ms before its own event), so no jitter back here.
    const rev = tid(this.nowUs, this.pop.clockId(target.author));
    return `{"did":"${this.pop.did(target.author)}","time_us":${this.nowUs},"kind":"commit","commit":{"rev":"${rev}","operation":"delete","collection":"${collection}","rkey":"${target.rkey}"}}`;
  }

  private seq(): number {
    return this.seqBase + this.produced;
  }

  private identity(): string {
    const who = this.rng.int(this.pop.size);
    const did = this.pop.did(who);
    this.meta.kind = 'identity';
    this.meta.ascii = false;
    this.meta.operation = undefined;
    this.meta.collection = undefined;
    const identity = { did, handle: this.rng.float() < 0.85 ? this.pop.handle(who) : undefined, seq: this.seq(), time: isoMillis(this.nowUs / 1000 - this.rng.int(300)) };
    if (this.rng.float() < IDENTITY_ACCOUNT_PAIR) this.pendingAccountFor = who;
    return JSON.stringify({ did, time_us: this.nowUs, kind: 'identity', identity });
  }

  private account(who: number, active: boolean): string {
    const did = this.pop.did(who);
    this.meta.kind = 'account';
    this.meta.ascii = true;
    this.meta.operation = undefined;
    this.meta.collection = undefined;
    const isActive = active || this.rng.float() < 0.45;
    const status = isActive ? undefined : (ACCOUNT_STATUS_WEIGHTS[this.statusTable.sample(this.rng)] as readonly [AccountStatus, number])[0];
    const account = { active: isActive, did, seq: this.seq(), status, time: isoMillis(this.nowUs / 1000 - this.rng.int(300)) };
    return JSON.stringify({ did, time_us: this.nowUs, kind: 'account', account });
  }
}

/** Raw Jetstream JSON lines, sorted by strictly increasing `time_us`. */
export function* generateEvents(opts: GenerateOptions): Generator<string, void, undefined> {
  const gen = new EventGenerator(opts);
  for (let line = gen.next(); line !== undefined; line = gen.next()) yield line;
}
