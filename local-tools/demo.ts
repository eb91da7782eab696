/**
 * `npm run demo [-- --events 200000] [--rate 2000|max] [--seed 1] [--regenerate]`: the whole pipeline on
 * one machine with no internet. Generates a sample of Jetstream events under $DATA_DIR/sample on first
 * run, then runs the local gateway on it exactly as `npm start -- --replay FILE --rate N` does (replay
 * server → ingest daemon → Redis → flush → Parquet → query functions), and says where to query.
 * Ctrl-C (or SIGTERM) is passed on once; the gateway stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../shared/config/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GENERATOR = path.join(ROOT, 'local-tools/generator/main.ts');
const GATEWAY = path.join(ROOT, 'local-tools/gateway/main.ts');
const USAGE = 'usage: npm run demo [-- --events 200000] [--rate 2000|max] [--seed 1] [--regenerate]';

const say = (line: string) => process.stdout.write(`demo: ${line}\n`);
const fail = (line: string, code = 1): never => {
  process.stderr.write(`demo: ${line}\n`);
  process.exit(code);
};

function parse() {
  try {
    const { values } = parseArgs({
      options: {
        events: { type: 'string', default: '200000' },
        rate: { type: 'string', default: '2000' },
        seed: { type: 'string', default: '1' },
        regenerate: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const events = Number(values.events);
    if (!Number.isInteger(events) || events <= 0) throw new Error(`--events must be a positive integer, got ${values.events}`);
    if (values.rate !== 'max' && !(Number(values.rate) > 0)) throw new Error(`--rate must be a positive number or "max", got ${values.rate}`);
    if (!/^[\w.-]+$/.test(values.seed)) throw new Error(`--seed must be letters, digits, '.', '-' or '_', got ${values.seed}`);
    return { events, rate: values.rate, seed: values.seed, regenerate: values.regenerate };
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
}

/** Runs a TypeScript entry point with tsx in a child node process. */
function runTs(file: string, args: string[], detached: boolean, stdout: 'inherit' | 'pipe' = 'inherit'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, stdio: ['ignore', stdout, 'inherit'], detached });
}

const shown = (file: string) => (path.relative(ROOT, file).startsWith('..') ? file : path.relative(ROOT, file));

const exitCode = (code: number | null, signal: NodeJS.Signals | null) => code ?? (signal === 'SIGINT' ? 130 : signal ? 143 : 1);

/** Writes the sample through a temporary name so an interrupted run never leaves a half file behind. */
async function generate(file: string, events: number, seed: string): Promise<void> {
  if (!existsSync(GENERATOR)) fail(`the generator (${path.relative(ROOT, GENERATOR)}) is missing from this checkout`);
  await mkdir(path.dirname(file), { recursive: true });
  const partial = file.replace(/\.jsonl\.gz$/, `.partial-${process.pid}.jsonl.gz`);
  say(`generating a sample of ${events.toLocaleString('en')} events (first run only) into ${shown(file)}`);
  const started = Date.now();
  const child = runTs(GENERATOR, ['--events', String(events), '--out', partial, '--seed', seed], false);
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return; // a terminal's Ctrl-C also arrives relayed by npm and tsx
    stopping = true;
    child.kill(sig);
    void rm(partial, { force: true }).finally(() => process.exit(exitCode(null, sig)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (c, s) => resolve({ code: c, signal: s })),
  );
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (code !== 0) {
    await rm(partial, { force: true });
    fail(`the generator failed (exit ${code ?? signal})`, exitCode(code, signal));
  }
  await rename(partial, file);
  say(`sample ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Tells the user where to query, once. */
function announcer(): (base: string) => void {
  let done = false;
  return (base) => {
    if (done) return;
    done = true;
    say(`the pipeline is running. Query it at ${base}/function/search?text=the&limit=5`);
    say(`API documentation: ${base}/function/docs  (posts appear after the first flush; Ctrl-C stops everything)`);
  };
}

/** Passes the gateway's stdout through and calls `onReady` with its URL from its `gateway ready: http://…` line. */
function watchReady(child: ChildProcess, onReady: (base: string) => void): void {
  let seen = '';
  let found = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (found || seen.length > 64 * 1024) return;
    seen += chunk.toString('utf8');
    const m = /gateway ready: (http:\/\/[^\s/]+)/.exec(seen);
    if (m) {
      found = true;
      onReady(m[1] as string);
    }
  });
}

/** Fallback when the gateway prints no ready line: poll its port until it answers HTTP at all. */
async function pollReady(port: number, child: ChildProcess, announce: (base: string) => void): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      await fetch(`${base}/`, { signal: AbortSignal.timeout(2000) });
      announce(base);
      return;
    } catch {
      // not up yet
    }
  }
}

async function main(): Promise<void> {
  const opts = parse();
  let cfg;
  try {
    cfg = loadConfig();
  } catch (err) {
    return fail((err as Error).message);
  }
  const sample = path.join(cfg.storage.dataDir, 'sample', `events-${opts.events}-seed${opts.seed}.jsonl.gz`);
  if (opts.regenerate || !existsSync(sample)) await generate(sample, opts.events, opts.seed);
  else say(`using the existing sample ${sample} (--regenerate makes a new one)`);

  if (!existsSync(GATEWAY)) fail(`the local gateway (${path.relative(ROOT, GATEWAY)}) is missing from this checkout`);
  say(`starting: npm start -- --replay ${shown(sample)} --rate ${opts.rate}`);
  // Its own process group, so a terminal's Ctrl-C reaches it once, through us.
  const child = runTs(GATEWAY, ['--replay', sample, '--rate', opts.rate], true, 'pipe');
  const announce = announcer();
  let started = false;
  let onStarted = () => {};
  const startedOrGone = new Promise<void>((resolve) => {
    onStarted = resolve;
    child.once('exit', () => resolve());
  });
  let firstSignalAt = 0;
  watchReady(child, (base) => {
    started = true;
    onStarted();
    if (!firstSignalAt) announce(base);
  });
  if (cfg.runtime.gatewayPort > 0) void pollReady(cfg.runtime.gatewayPort, child, (base) => firstSignalAt || announce(base));
  const forward = (sig: NodeJS.Signals) => {
    const now = Date.now();
    if (!firstSignalAt) {
      firstSignalAt = now;
      // A gateway stopped half-way through starting could leave the daemon it starts last behind:
      // pass the signal on once it says it is ready (or after 30 s).
      if (!started) say('stopping as soon as the gateway has finished starting');
      const timeout = new Promise<void>((r) => setTimeout(r, 30_000).unref());
      void Promise.race([startedOrGone, timeout]).then(() => child.kill(sig));
    } else if (now - firstSignalAt > 3000) {
      say('stopping forcefully');
      child.kill('SIGKILL');
    }
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  process.exit(exitCode(code, signal));
}

void main();
