/**
 * `npm start`: the local stand-in for OpenFaaS on k3s. Makes sure Redis is there, serves every function
 * of stack.yml at http://127.0.0.1:$GATEWAY_PORT/function/<name> through the production template code,
 * fires cron functions like the cron-connector, and runs the ingest daemon (optionally fed by the
 * replay server). Ctrl-C / SIGTERM stops everything it started.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../shared/config/index.js';
import { createLogger } from '../../shared/log.js';
import { parseGatewayArgs, USAGE, type GatewayArgs } from './args.js';
import { startGateway } from './gateway.js';
import { ensureRedis, supervise, type ManagedRedis, type Supervised } from './processes.js';
import { parseStack } from './stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(args: GatewayArgs): Promise<void> {
  const env = { ...process.env };
  const cfg = loadConfig(env);
  const log = createLogger('gateway', { level: cfg.runtime.logLevel });
  const stackFile = path.resolve(args.stack);
  const stack = parseStack(await readFile(stackFile, 'utf8'), { file: args.stack, baseDir: path.dirname(stackFile), env });

  // Everything started is stopped in reverse order.
  const stops: Array<{ what: string; stop: () => Promise<void> }> = [];
  let shuttingDown = false;
  const shutdown = async (reason: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason }, 'stopping');
    setTimeout(() => {
      log.error({}, 'shutdown took too long: forcing exit');
      process.exit(1);
    }, cfg.runtime.fn.shutdownGraceMs + 20_000).unref();
    for (const { what, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ what, err }, 'stop failed');
      }
    }
    log.info({}, 'stopped');
    process.exitCode = code;
  };
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));

  /**
   * Registers a started part for shutdown. A signal that arrived while it was starting has already run
   * the shutdown over the parts before it, so this one is stopped at once and start-up goes no further.
   */
  const started = async (what: string, stop: () => Promise<void>): Promise<boolean> => {
    if (!shuttingDown) {
      stops.push({ what, stop });
      return true;
    }
    await stop().catch((err: unknown) => log.error({ what, err }, 'stop failed'));
    return false;
  };

  try {
    const redis: ManagedRedis = await ensureRedis(cfg.redis.url, path.join(cfg.storage.dataDir, 'redis'), log.child('redis'));
    if (!(await started('redis', () => redis.stop()))) return;

    const daemonEnv: Record<string, string | undefined> = { ...env };
    if (args.replay) {
      const { startReplayServer } = await import('../replay-server/server.js');
      const replay = await startReplayServer({ file: path.resolve(args.replay), port: 0, rate: args.rate, log: log.child('replay') });
      if (!(await started('replay', () => replay.close()))) return;
      daemonEnv.JETSTREAM_URL = replay.url;
      log.info({ url: replay.url, file: args.replay, rate: args.rate }, 'replay server started');
    }

    const gw = await startGateway({ stack, port: cfg.runtime.gatewayPort, env, log, shutdownGraceMs: cfg.runtime.fn.shutdownGraceMs });
    if (!(await started('gateway', () => gw.close()))) return;

    const daemonFile = path.join(ROOT, 'ingest-daemon/main.ts');
    if (!args.daemon) log.info({}, 'ingest daemon not started (--no-daemon)');
    else if (!existsSync(daemonFile)) log.warn({ file: daemonFile }, 'ingest daemon not started: ingest-daemon/main.ts does not exist yet');
    else if (!shuttingDown) {
      // Stopped first (pushed last): it saves its cursor to Redis on SIGTERM.
      const daemon: Supervised = supervise('ingest-daemon', daemonFile, { cwd: ROOT, env: daemonEnv, log: log.child('daemon') });
      stops.push({ what: 'ingest-daemon', stop: () => daemon.stop() });
    }

    for (const f of gw.functions) log.info({ function: f.name, state: f.state, schedule: f.schedule }, 'function mounted');
    const first = gw.functions.find((f) => f.name === 'search') ?? gw.functions[0];
    const example = first?.name === 'search' ? `${gw.url}/function/search?text=bluesky` : `${gw.url}/function/${first?.name ?? '<name>'}`;
    process.stdout.write(`gateway ready: ${example}  (functions: ${gw.functions.map((f) => f.name).join(', ')}; list: ${gw.url}/)\n`);
  } catch (err) {
    log.error({ err }, 'gateway failed to start');
    process.stderr.write(`gateway: ${(err as Error).message}\n`);
    await shutdown('start-up failed', 1);
  }
}

let args: GatewayArgs;
try {
  args = parseGatewayArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
main(args).catch((err: unknown) => {
  process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `gateway: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
