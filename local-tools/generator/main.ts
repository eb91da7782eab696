/**
 * `npm run gen -- --events N --out F.jsonl[.gz] [--seed S] [--start ISO] [--rate EV_PER_S]
 *  [--truth F.json] [--mix real|spec] [--volume real|spec --days D] [--accounts N] [--gzip-level L]`
 * writes realistic Jetstream v1 events, deterministic for a seed. See local-tools/README.md.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_RATE, DEFAULT_SEED, DEFAULT_START } from './generator.js';
import { MIXES, VOLUMES, type MixName } from './mix.js';
import { writeEventsFile, type WriteOptions } from './write.js';

const USAGE = `usage: npm run gen -- --events N --out F.jsonl[.gz] [--seed S] [--start ISO] [--rate EV_PER_S]
       [--truth F.json] [--mix real|spec] [--accounts N] [--gzip-level 1-9] [--quiet]
   or: npm run gen -- --volume real|spec --days D --out F.jsonl.gz [...]
defaults: --seed ${DEFAULT_SEED} --start ${DEFAULT_START} --rate ${DEFAULT_RATE} --mix real
--volume real = ${VOLUMES.real.toLocaleString('en')} events/day; spec = ${VOLUMES.spec.toLocaleString('en')} events/day with the spec's post share (≈2.3M posts/day)`;

class UsageError extends Error {}

function num(name: string, value: string | undefined, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw new UsageError(`--${name}: expected ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}, got "${value}"`);
  }
  return n;
}

function mixName(name: string, value: string | undefined): MixName | undefined {
  if (value === undefined) return undefined;
  if (!(value in MIXES)) throw new UsageError(`--${name}: expected real or spec, got "${value}"`);
  return value as MixName;
}

/** Turns argv into generator options (exported for tests). */
export function parseCli(argv: string[]): WriteOptions & { quiet: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      rate: { type: 'string' },
      truth: { type: 'string' },
      mix: { type: 'string' },
      volume: { type: 'string' },
      days: { type: 'string' },
      accounts: { type: 'string' },
      'gzip-level': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new UsageError('');
  if (!values.out) throw new UsageError('--out is required');
  const volume = mixName('volume', values.volume);
  const days = num('days', values.days, { min: 0 });
  let events = num('events', values.events, { integer: true, min: 0 });
  let rate = num('rate', values.rate, { min: 1e-6 });
  if (volume) {
    if (events !== undefined) throw new UsageError('give either --events or --volume/--days, not both');
    events = Math.round(VOLUMES[volume] * (days ?? 1));
    rate ??= VOLUMES[volume] / 86_400;
  } else if (days !== undefined) throw new UsageError('--days needs --volume real|spec');
  if (events === undefined) throw new UsageError('--events (or --volume) is required');
  const start = values.start ?? DEFAULT_START;
  if (!Number.isFinite(Date.parse(start))) throw new UsageError(`--start: not an ISO date: "${start}"`);
  return {
    events,
    out: values.out,
    seed: values.seed ?? DEFAULT_SEED,
    start,
    rate: rate ?? DEFAULT_RATE,
    mix: mixName('mix', values.mix) ?? volume ?? 'real',
    accounts: num('accounts', values.accounts, { integer: true, min: 1 }),
    gzipLevel: num('gzip-level', values['gzip-level'], { integer: true, min: 0, max: 9 }),
    truthOut: values.truth,
    quiet: values.quiet,
  };
}

async function main(): Promise<void> {
  let opts: ReturnType<typeof parseCli>;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    const msg = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? (err as Error).message : String(err);
    process.stderr.write((msg ? `gen: ${msg}\n` : '') + USAGE + '\n');
    process.exit(msg ? 2 : 0);
  }
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const result = await writeEventsFile({
    ...opts,
    onProgress: opts.quiet ? undefined : (n) => process.stderr.write(`gen: ${n.toLocaleString('en')} events, ${Math.round(n / seconds()).toLocaleString('en')} events/s\n`),
  });
  const s = seconds();
  const cpu = process.cpuUsage(cpuStart);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const t = result.truth;
  process.stdout.write(
    `gen: wrote ${result.events.toLocaleString('en')} events to ${opts.out} in ${s.toFixed(1)} s ` +
      `(${Math.round(result.events / s).toLocaleString('en')} events/s; cpu ${cpuS.toFixed(1)} s, ` +
      `${Math.round(result.events / Math.max(cpuS, 1e-6)).toLocaleString('en')} events per cpu-second; ` +
      `${(result.bytes / Math.max(1, result.events)).toFixed(0)} bytes/event uncompressed); ` +
      `posts ${t.by_table.posts.toLocaleString('en')}, planted ${t.planted.length}` +
      (opts.truthOut ? `; truth in ${opts.truthOut}` : '') +
      '\n',
  );
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((err: unknown) => {
    // System errors (a path that cannot be written, a full disk) say enough in their message.
    const text = err instanceof Error ? ((err as NodeJS.ErrnoException).code ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`gen: failed: ${text}\n`);
    process.exit(1);
  });
}
