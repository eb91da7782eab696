/**
 * `flush` (cron, and `faas-cli invoke flush` by operators): converts the buffered stream to Parquet
 * and answers with the run's JSON summary. The logic lives in shared/flush.
 */
import { loadConfig } from '../../shared/config/index.js';
import { createContext, type AppContext } from '../../shared/context.js';
import { runFlush } from '../../shared/flush/index.js';
import type { FunctionContext, FunctionEvent } from '../../shared/function-contract.js';

let ctx: AppContext | undefined;

export async function init(): Promise<void> {
  ctx ??= await createContext(loadConfig(), 'fn:flush');
}

export async function destroy(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  await c?.destroy();
}

export default async function handler(_event: FunctionEvent, context: FunctionContext) {
  await init();
  const summary = await runFlush(ctx!);
  context.status(200).headers({ 'content-type': 'application/json' });
  return summary;
}
