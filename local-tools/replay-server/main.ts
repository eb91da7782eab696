/**
 * `npm run replay -- --file F.jsonl[.gz] [--port 6008] [--host 127.0.0.1] [--rate N|max] [--loop]`:
 * serves the file as a Jetstream at ws://HOST:PORT/subscribe until SIGINT/SIGTERM.
 * Prints `replay-server listening ws://…/subscribe` on stdout once ready; logs go to stderr.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config/index.js';
import { createLogger } from '../../shared/log.js';
import { parseRate, startReplayServer } from './server.js';

const USAGE = 'usage: npm run replay -- --file F.jsonl[.gz] [--port 6008] [--host 127.0.0.1] [--rate N|max] [--loop]';

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        file: { type: 'string' },
        port: { type: 'string', default: '6008' },
        host: { type: 'string', default: '127.0.0.1' },
        rate: { type: 'string', default: 'max' },
        loop: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(args.port);
  let rate: number | 'max';
  try {
    if (!args.file) throw new Error('--file is required');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${args.port}`);
    rate = parseRate(args.rate);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const cfg = loadConfig();
  const log = createLogger('replay-server', { level: cfg.runtime.logLevel });
  const server = await startReplayServer({ file: args.file, port, host: args.host, rate, loop: args.loop, log });
  process.stdout.write(`replay-server listening ${server.url}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, ...server.stats() }, 'stopping');
    setTimeout(() => process.exit(1), 5000).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`replay-server: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
