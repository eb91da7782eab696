/**
 * `flush` (cron every 5 minutes, and `faas-cli invoke flush` by operators; POST /function/flush):
 * converts the buffered stream to Parquet and answers with the run's JSON summary. The logic lives in
 * shared/flush (see functions/flush/README.md); this module only wires it up.
 */
import { loadConfig } from '../../shared/config/index.js';
import { createContext, type AppContext } from '../../shared/context.js';
import { AppError } from '../../shared/errors.js';
import { runFlush } from '../../shared/flush/index.js';
import type { Handler } from '../../shared/function-contract.js';
import { collectProcessMetrics } from '../../shared/metrics.js';

let ctx: AppContext | undefined;

export async function init(): Promise<void> {
  if (ctx) return;
  collectProcessMetrics();
  ctx = await createContext(loadConfig(), 'fn:flush');
}

export async function destroy(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  await c?.destroy();
}

const handler: Handler = async (event, context) => {
  if (event.method !== 'POST') {
    context.headers({ allow: 'POST' });
    throw new AppError('method_not_allowed', "flush runs on POST (the cron connector's and faas-cli invoke's method)", 405);
  }
  await init();
  const summary = await runFlush(ctx!);
  // 409 tells an operator running it by hand that another run holds the lock; nothing was done.
  if (summary.status === 'locked') context.status(409);
  return summary;
};

export default handler;
