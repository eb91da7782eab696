/**
 * The simulated accounts and the memory of what was generated: a bounded population with Zipf-like
 * activity (identities derived from the account index, so nothing per account is stored), recent
 * posts to reply to, like and quote, and pools of created records that later deletes remove.
 * Every structure is bounded, so memory stays flat however many events are generated.
 */
import { CUSTOM_TLDS, NAME_PARTS } from './vocab.js';
import { plcDid } from './ids.js';
import { mix32, ZipfSampler, type Rng } from './prng.js';

const DID_CACHE_SIZE = 65_536;

export class Population {
  readonly size: number;
  private readonly key: number;
  private readonly didCache: (string | undefined)[] = new Array(DID_CACHE_SIZE);

  constructor(size: number, seedKey: number) {
    this.size = size;
    this.key = seedKey;
  }

  /** About 1 in 300 accounts uses did:web. */
  private isWeb(index: number): boolean {
    return mix32(index, this.key ^ 0x5eed) % 300 === 7;
  }

  did(index: number): string {
    if (index < DID_CACHE_SIZE) {
      const hit = this.didCache[index];
      if (hit !== undefined) return hit;
    }
    const did = this.isWeb(index) ? `did:web:${this.domain(index)}` : plcDid(this.key, index);
    if (index < DID_CACHE_SIZE) this.didCache[index] = did;
    return did;
  }

  private domain(index: number): string {
    const h = mix32(index, this.key ^ 0xd0);
    const a = NAME_PARTS[h % NAME_PARTS.length] as string;
    const b = NAME_PARTS[(h >>> 8) % NAME_PARTS.length] as string;
    return `${a}${b}.${CUSTOM_TLDS[(h >>> 16) % CUSTOM_TLDS.length]}`;
  }

  handle(index: number): string {
    if (this.isWeb(index)) return this.domain(index);
    const h = mix32(index, this.key ^ 0x4a);
    const a = NAME_PARTS[h % NAME_PARTS.length] as string;
    if (h % 10 === 0) return this.domain(index);
    const b = (h >>> 8) % 3 === 0 ? '' : (NAME_PARTS[(h >>> 10) % NAME_PARTS.length] as string);
    const n = (h >>> 20) % 4 === 0 ? String(index % 1000) : '';
    return `${a}${b}${n}.bsky.social`;
  }

  displayName(index: number): string {
    const h = mix32(index, this.key ^ 0xd15);
    const a = NAME_PARTS[h % NAME_PARTS.length] as string;
    const b = NAME_PARTS[(h >>> 8) % NAME_PARTS.length] as string;
    return `${a.charAt(0).toUpperCase()}${a.slice(1)} ${b.charAt(0).toUpperCase()}${b.slice(1)}`;
  }

  /** The account's TID clock id (stable per account, small like most PDSes produce). */
  clockId(index: number): number {
    return mix32(index, this.key ^ 0xc10c) & 31;
  }

  /** An account index with Zipf-like activity: exponent s in (0, 1) (higher = more concentrated). */
  pick(rng: Rng, s: number): number {
    let sampler = this.samplers.get(s);
    if (!sampler) this.samplers.set(s, (sampler = new ZipfSampler(this.size, s)));
    return sampler.sample(rng);
  }

  private readonly samplers = new Map<number, ZipfSampler>();

  /** The top 1% of accounts: their posts are the "popular" ones likes concentrate on. */
  isPopular(index: number): boolean {
    return index < Math.max(10, Math.floor(this.size / 100));
  }
}

/** A recent post others may reply to, like, repost or quote. */
export interface PostRef {
  author: number;
  rkey: string;
  uri: string;
  cid: string;
  rootUri: string;
  rootCid: string;
}

/** A ring buffer of the most recent items; older ones fall off. */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Uniform pick. */
  any(rng: Rng): T | undefined {
    return this.items.length ? this.items[rng.int(this.items.length)] : undefined;
  }

  /** Pick favouring the newest items. */
  recent(rng: Rng): T | undefined {
    const n = this.items.length;
    if (!n) return undefined;
    const u = rng.float();
    const age = Math.floor(n * u * u * u);
    return this.items[(this.next - 1 - age + 2 * n) % n];
  }
}

/**
 * Records that may be deleted later: bounded, random replacement when full, and each record is
 * taken at most once, so every delete refers to a record created earlier and never twice.
 */
export class DeletablePool {
  private readonly authors: Int32Array;
  private readonly rkeys: string[] = [];
  private count = 0;

  constructor(readonly capacity: number) {
    this.authors = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  add(rng: Rng, author: number, rkey: string): void {
    const slot = this.count < this.capacity ? this.count++ : rng.int(this.capacity);
    this.authors[slot] = author;
    this.rkeys[slot] = rkey;
  }

  /** Removes and returns a random record, or undefined when empty. */
  take(rng: Rng): { author: number; rkey: string } | undefined {
    if (this.count === 0) return undefined;
    const i = rng.int(this.count);
    const last = --this.count;
    const out = { author: this.authors[i] as number, rkey: this.rkeys[i] as string };
    this.authors[i] = this.authors[last] as number;
    this.rkeys[i] = this.rkeys[last] as string;
    this.rkeys.length = last;
    return out;
  }
}
