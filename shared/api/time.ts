/**
 * Times in the API: ISO 8601 dates or date-times from the query string, as bigint microseconds since
 * the epoch (the resolution of DuckDB's TIMESTAMPTZ), so comparisons and cursors never lose precision.
 */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses `2025-01-31` (UTC midnight) or `2025-01-31T12:00[:00[.123456]][Z|+02:00]` (no zone = UTC).
 * Returns undefined for anything else, including impossible dates such as 2025-02-30.
 */
export function parseIsoToMicros(text: string): bigint | undefined {
  const s = text.trim();
  let m = DATE_RE.exec(s);
  let parts: string[];
  let frac = '';
  let zone = 'Z';
  if (m) {
    parts = [m[1]!, m[2]!, m[3]!, '00', '00', '00'];
  } else {
    m = DATETIME_RE.exec(s);
    if (!m) return undefined;
    parts = [m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6] ?? '00'];
    frac = m[7] ?? '';
    zone = (m[8] ?? 'Z').toUpperCase();
  }
  const [y, mo, d, h, mi, se] = parts.map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  let offsetMin = 0;
  if (zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (!z) return undefined;
    const oh = Number(z[2]);
    const om = Number(z[3]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (z[1] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const micros = BigInt(ms - offsetMin * 60_000) * 1000n + BigInt((frac + '000000').slice(0, 6));
  // Keep to years DuckDB and JavaScript both represent without surprises.
  if (y < 1970 || y > 9999) return undefined;
  return micros;
}

/** Microseconds → ISO 8601 string with microseconds when they are not zero (UTC, `Z`). */
export function microsToIso(us: bigint): string {
  const ms = us / 1000n;
  const rest = us % 1000n;
  const iso = new Date(Number(ms)).toISOString();
  if (rest === 0n) return iso;
  return iso.replace('Z', String(rest < 0n ? -rest : rest).padStart(3, '0') + 'Z');
}

export const HOUR_US = 3_600_000_000n;
export const DAY_US = 24n * HOUR_US;

/** Floors microseconds to the start of the hour or day (UTC). */
export function floorMicros(us: bigint, unit: bigint): bigint {
  const r = us % unit;
  return r < 0n ? us - r - unit : us - r;
}
