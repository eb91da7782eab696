/**
 * The `compact` function (cron, hourly; POST /function/compact): merges each closed hour's batch files
 * into one sorted, deduplicated file per table without deleted records, and answers a JSON summary.
 * The logic lives in shared/compact (see functions/compact/README.md); this module only wires it up.
 */
import { compact } from '../../shared/compact/compact.js';
import { loadConfig } from '../../shared/config/index.js';
import { createContext, type AppContext } from '../../shared/context.js';
import { AppError } from '../../shared/errors.js';
import type { Handler } from '../../shared/function-contract.js';
import { collectProcessMetrics } from '../../shared/metrics.js';

let ctx: AppContext | undefined;

export async function init(): Promise<void> {
  if (ctx) return;
  collectProcessMetrics();
  ctx = await createContext(loadConfig(), 'fn:compact');
}

export async function destroy(): Promise<void> {
  await ctx?.destroy();
  ctx = undefined;
}

const handler: Handler = async (event, context) => {
  if (event.method !== 'POST') {
    context.headers({ allow: 'POST' });
    throw new AppError('method_not_allowed', 'compact runs on POST (the cron connector\'s method)', 405);
  }
  await init();
  const summary = await compact(ctx!, { signal: event.signal });
  // 409 tells an operator running it by hand that a run is already in progress.
  if (summary.skipped) context.status(409);
  return summary;
};

export default handler;
