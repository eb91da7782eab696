/**
 * Event timing: exponential gaps at a rate that drifts second by second (log-normal with rare
 * bursts several times the average) and follows the day (busier in the US afternoon), normalised
 * so a run averages the requested rate. Timestamps are integer microseconds, strictly increasing.
 */
import type { Rng } from './prng.js';

const DAY_US = 86_400_000_000;
const BLOCK_US = 1_000_000;
const DIURNAL_AMPLITUDE = 0.2;
/** UTC hour of the daily peak. */
const PEAK_HOUR = 15;

function diurnal(tUs: number): number {
  return 1 + DIURNAL_AMPLITUDE * Math.sin((2 * Math.PI * (tUs - (PEAK_HOUR - 6) * 3_600_000_000)) / DAY_US);
}

/** Mean of the diurnal factor over [from, from + span] (closed form of the sine's integral). */
function diurnalMean(fromUs: number, spanUs: number): number {
  if (spanUs <= 0) return diurnal(fromUs);
  const w = (2 * Math.PI) / DAY_US;
  const shift = (PEAK_HOUR - 6) * 3_600_000_000;
  const integral = spanUs - (DIURNAL_AMPLITUDE / w) * (Math.cos(w * (fromUs + spanUs - shift)) - Math.cos(w * (fromUs - shift)));
  return integral / spanUs;
}

export class Clock {
  private t: number;
  private blockEnd: number;
  private meanGapUs = 0;
  private readonly norm: number;

  constructor(
    private readonly rng: Rng,
    startUs: number,
    private readonly rate: number,
    expectedEvents: number,
  ) {
    this.t = startUs;
    this.blockEnd = startUs;
    this.norm = diurnalMean(startUs, (expectedEvents / rate) * 1e6);
  }

  /** The next event time (µs), strictly after the previous one. */
  next(): number {
    while (this.t >= this.blockEnd) this.newBlock();
    const gap = Math.round(this.rng.exp(this.meanGapUs));
    this.t += gap < 1 ? 1 : gap;
    return this.t;
  }

  private newBlock(): void {
    const rng = this.rng;
    const drift = 0.97 * Math.exp(0.4 * rng.normal() - 0.08) + (rng.float() < 0.01 ? 3 : 0);
    const rate = (this.rate * drift * diurnal(this.blockEnd)) / this.norm;
    this.meanGapUs = 1e6 / rate;
    this.blockEnd += BLOCK_US;
  }
}

const ISO_SLOTS = 16;
const isoSecs = new Float64Array(ISO_SLOTS).fill(NaN);
const isoPrefixes: string[] = new Array<string>(ISO_SLOTS).fill('');

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` for a time in milliseconds (the seconds part cached). */
export function isoMillis(ms: number): string {
  const whole = Math.floor(ms);
  const sec = Math.floor(whole / 1000);
  const slot = sec & (ISO_SLOTS - 1);
  let prefix: string;
  if (isoSecs[slot] === sec) prefix = isoPrefixes[slot] as string;
  else {
    prefix = new Date(sec * 1000).toISOString().slice(0, 20);
    isoSecs[slot] = sec;
    isoPrefixes[slot] = prefix;
  }
  const milli = whole - sec * 1000;
  return prefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

/** UTC hour key `YYYY-MM-DDTHH` of a time in microseconds. */
export function hourKey(timeUs: number): string {
  return new Date(Math.floor(timeUs / 1000)).toISOString().slice(0, 13);
}
