import { parseArgs } from 'node:util';

export interface GatewayArgs {
  stack: string;
  daemon: boolean;
  replay?: string;
  rate: number | 'max';
  help: boolean;
}

export const USAGE = `usage: npm start -- [--stack stack.yml] [--no-daemon] [--replay FILE.jsonl[.gz] [--rate N|max]]
  --stack FILE   OpenFaaS stack file to serve (default: stack.yml)
  --no-daemon    do not start the ingest daemon
  --replay FILE  replay a recorded/generated Jetstream file to the daemon instead of the live firehose
  --rate N|max   replay events per second (default: max)
Port and everything else come from the environment (GATEWAY_PORT, REDIS_URL, DATA_DIR, …; see README).`;

/** Parses the gateway's command line; throws with a readable message on a bad argument. */
export function parseGatewayArgs(argv: string[]): GatewayArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: 'string' },
      'no-daemon': { type: 'boolean' },
      replay: { type: 'string' },
      rate: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  let rate: number | 'max' = 'max';
  if (values.rate !== undefined) {
    if (values.replay === undefined) throw new Error('--rate only applies with --replay');
    if (values.rate !== 'max') {
      const n = Number(values.rate);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--rate must be a positive number or "max", got ${JSON.stringify(values.rate)}`);
      rate = n;
    }
  }
  return { stack: values.stack ?? 'stack.yml', daemon: !values['no-daemon'], replay: values.replay, rate, help: values.help ?? false };
}
