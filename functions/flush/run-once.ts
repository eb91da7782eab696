/**
 * Runs one flush from the command line with the environment's configuration and prints the summary
 * as JSON (operators without faas-cli; the crash-safety tests run it as a child process).
 *   REDIS_PREFIX=bsky: DATA_DIR=./data npx tsx functions/flush/run-once.ts
 */
import { loadConfig } from '../../shared/config/index.js';
import { createContext } from '../../shared/context.js';
import { runFlush } from '../../shared/flush/index.js';

const ctx = await createContext(loadConfig(), 'fn:flush');
try {
  const summary = await runFlush(ctx);
  process.stdout.write(JSON.stringify(summary) + '\n');
} finally {
  await ctx.destroy();
}
