/**
 * AT Protocol identifiers in their real formats: did:plc (24 base32 chars), did:web, TIDs
 * (13-char base32-sortable, 53-bit microsecond timestamp + 10-bit clock id), CIDv1 strings
 * (`bafyrei…` for records, `bafkrei…` for blobs) and at:// URIs.
 */
import { mix32, type Rng } from './prng.js';

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const S32 = '234567abcdefghijklmnopqrstuvwxyz';
/** Last character of a base32 sha-256 CIDv1: only its 3 top bits are used. */
const CID_LAST = 'aeimquy4';

/** All 1024 two-character sortable-base32 strings, indexed by their 10-bit value. */
const S32_PAIRS: string[] = Array.from({ length: 1024 }, (_, i) => (S32[i >> 5] as string) + (S32[i & 31] as string));

const TID_LOW = 1 << 20;
let tidHighKey = -1;
let tidHigh = '';

/** A TID for `timeUs` (microseconds since the epoch) and a clock id in [0, 1024). */
export function tid(timeUs: number, clockId: number): string {
  const ts = Math.floor(timeUs);
  const high = Math.floor(ts / TID_LOW);
  if (high !== tidHighKey) {
    let h = high;
    let out = '';
    for (let i = 0; i < 7; i++) {
      out = (S32[h % 32] as string) + out;
      h = Math.floor(h / 32);
    }
    tidHigh = out;
    tidHighKey = high;
  }
  const low = ts - high * TID_LOW;
  return tidHigh + S32_PAIRS[low >> 10] + S32_PAIRS[low & 1023] + S32_PAIRS[clockId & 1023];
}

/** Decodes a TID back to [timeUs, clockId]. */
export function parseTid(value: string): [number, number] {
  let ts = 0;
  for (let i = 0; i < 11; i++) ts = ts * 32 + S32.indexOf(value[i] as string);
  const clk = S32.indexOf(value[11] as string) * 32 + S32.indexOf(value[12] as string);
  return [ts, clk];
}

const B32_CODES = Uint8Array.from(B32, (c) => c.charCodeAt(0));
const CID_LAST_CODES = Uint8Array.from(CID_LAST, (c) => c.charCodeAt(0));
const cidBuf = Buffer.alloc(59);

/** `prefix` (7 ASCII chars) + 52 random base32 chars, the last one a valid sha-256 tail. */
function cid(rng: Rng, prefix: string): string {
  const buf = cidBuf;
  buf.write(prefix, 0, 'latin1');
  for (let i = 7; i < 58; i += 6) {
    let w = rng.u32();
    const end = i + 6 < 58 ? i + 6 : 58;
    for (let j = i; j < end; j++) {
      buf[j] = B32_CODES[w & 31] as number;
      w >>>= 5;
    }
  }
  buf[58] = CID_LAST_CODES[rng.u32() & 7] as number;
  return buf.toString('latin1', 0, 59);
}

/** A random record CID (`bafyrei…`, 59 chars). */
export function recordCid(rng: Rng): string {
  return cid(rng, 'bafyrei');
}

/** A random blob CID (`bafkrei…`, 59 chars). */
export function blobCid(rng: Rng): string {
  return cid(rng, 'bafkrei');
}

const didBuf = Buffer.from('did:plc:________________________', 'latin1');

/**
 * A stable did:plc identifier for (population seed, account index). Built in a buffer so the result
 * is one flat string (a string grown char by char is a rope that every later use has to walk).
 */
export function plcDid(seedKey: number, index: number): string {
  const buf = didBuf;
  let at = 8;
  for (let round = 0; round < 4; round++) {
    let word = mix32(mix32(index, seedKey), round);
    for (let i = 0; i < 6; i++) {
      buf[at++] = B32_CODES[word & 31] as number;
      word >>>= 5;
    }
  }
  return buf.toString('latin1', 0, 32);
}

export function atUri(did: string, collection: string, rkey: string): string {
  return `at://${did}/${collection}/${rkey}`;
}
