/**
 * A small, fast, seeded PRNG (xoshiro128**) and the samplers the generator needs. Deterministic for a
 * seed on every platform; never touches Math.random.
 */

/** 32-bit string/number hash (cyrb53-style mixing) used to derive seeds and per-index values. */
export function hash32(input: string | number, salt = 0): number {
  const s = typeof input === 'number' ? String(input) : input;
  let h1 = 0xdeadbeef ^ salt;
  let h2 = 0x41c6ce57 ^ salt;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  return h1 >>> 0;
}

/** Integer mixer (a 32-bit avalanche, "lowbias32"): a stable pseudo-random value for (key, round). */
export function mix32(key: number, round = 0): number {
  let x = (key ^ Math.imul(round + 1, 0x9e3779b9)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const INV_2_32 = 1 / 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: string | number) {
    const base = hash32(String(seed));
    this.a = mix32(base, 1) | 1;
    this.b = mix32(base, 2);
    this.c = mix32(base, 3);
    this.d = mix32(base, 4);
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** Next unsigned 32-bit value. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() * INV_2_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    const u = 1 - this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Index in [0, n) with a power-law (Zipf-like) preference for small indices: P(i) ∝ (i+1)^-s
   * approximately, by inverting the continuous CDF. s must not be 1 (use 0.999).
   */
  zipf(n: number, s: number): number {
    const a = 1 - s;
    const top = Math.pow(n + 1, a) - 1;
    const x = Math.pow(1 + this.float() * top, 1 / a);
    const i = Math.floor(x) - 1;
    return i < 0 ? 0 : i >= n ? n - 1 : i;
  }
}

/** `Rng.zipf` with the constants for one (n, s) precomputed. */
export class ZipfSampler {
  private readonly a: number;
  private readonly top: number;
  constructor(
    readonly n: number,
    s: number,
  ) {
    this.a = 1 - s;
    this.top = Math.pow(n + 1, this.a) - 1;
  }

  sample(rng: Rng): number {
    const i = Math.floor(Math.pow(1 + rng.float() * this.top, 1 / this.a)) - 1;
    return i < 0 ? 0 : i >= this.n ? this.n - 1 : i;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** O(1) weighted choice (Vose's alias method) over a fixed list of weights. */
export class AliasTable {
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  readonly size: number;

  constructor(weights: readonly number[]) {
    const n = weights.length;
    if (n === 0) throw new Error('AliasTable needs at least one weight');
    const total = weights.reduce((s, w) => s + w, 0);
    if (!(total > 0)) throw new Error('AliasTable weights must sum to a positive number');
    this.size = n;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = weights.map((w) => (w * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length && large.length) {
      const s = small.pop() as number;
      const l = large.pop() as number;
      this.prob[s] = scaled[s] as number;
      this.alias[s] = l;
      scaled[l] = (scaled[l] as number) + (scaled[s] as number) - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of [...small, ...large]) this.prob[i] = 1;
  }

  sample(rng: Rng): number {
    const x = rng.float() * this.size;
    const i = Math.floor(x);
    return x - i < (this.prob[i] as number) ? i : (this.alias[i] as number);
  }
}
