import type { Redis } from 'ioredis';

/**
 * Cursor to send to Jetstream when (re)connecting: the last time_us written to Redis minus the rewind
 * (Jetstream's documented practice), so events in flight when the connection died are fetched again.
 * Undefined (no cursor: live tail) when nothing was ever written.
 */
export function resumeCursor(lastWrittenUs: number | undefined, rewindS: number): number | undefined {
  if (lastWrittenUs === undefined) return undefined;
  return Math.max(0, lastWrittenUs - rewindS * 1_000_000);
}

/** Parses a stored cursor; anything that is not a non-negative safe integer counts as no cursor. */
export function parseCursor(raw: string | null | undefined): number | undefined {
  if (raw === null || raw === undefined || !/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The saved cursor in Redis: written only after the events it describes were written (STYLE.md §5). */
export class CursorStore {
  private saved: number | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  /** Reads the saved cursor (undefined if none or unreadable). */
  async load(): Promise<number | undefined> {
    this.saved = parseCursor(await this.redis.get(this.key));
    return this.saved;
  }

  /** The value last loaded or saved. */
  get lastSaved(): number | undefined {
    return this.saved;
  }

  /** Saves `timeUs` if it differs from what is stored; returns whether a write happened. */
  async save(timeUs: number | undefined): Promise<boolean> {
    if (timeUs === undefined || timeUs === this.saved) return false;
    await this.redis.set(this.key, String(timeUs));
    this.saved = timeUs;
    return true;
  }
}
