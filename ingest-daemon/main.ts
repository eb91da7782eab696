/**
 * The ingest daemon: Jetstream → Redis stream. Configured only by environment (see README.md);
 * SIGTERM/SIGINT stop reading, write what was received, save the cursor and exit 0.
 */
import { loadConfig } from '../shared/config/index.js';
import { IngestDaemon } from '../shared/ingest/daemon.js';
import { createLogger } from '../shared/log.js';
import { createRedis } from '../shared/redis.js';

const cfg = loadConfig();
const log = createLogger('ingest', { level: cfg.runtime.logLevel });
const redis = createRedis(cfg);
redis.on('error', () => undefined); // failures surface on the commands that hit them
const daemon = new IngestDaemon({ cfg, redis, log });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // If draining hangs past its own deadline, leave anyway: the cursor only covers what was written.
  setTimeout(() => {
    log.error('shutdown took too long, exiting');
    process.exit(1);
  }, cfg.ingest.shutdownTimeoutMs + 5000).unref();
  const ok = await daemon.stop();
  await redis.quit().catch(() => redis.disconnect());
  process.exitCode = ok ? 0 : 1;
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

daemon.start().catch((err: unknown) => {
  log.error({ err }, 'ingest daemon failed to start');
  process.exit(1);
});
