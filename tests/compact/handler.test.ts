import t from 'tap';
import handler from '../../functions/compact/handler.js';
import { AppError, toErrorResponse } from '../../shared/errors.js';
import type { FunctionContext, FunctionEvent } from '../../shared/function-contract.js';

t.test('compact answers anything but POST with 405 and an Allow header, before touching Redis or DuckDB', async (t) => {
  const headers: Record<string, unknown> = {};
  const context = {
    status: () => context,
    headers: (h: Record<string, unknown>) => (Object.assign(headers, h), context),
    succeed: () => undefined,
    fail: () => undefined,
  } as unknown as FunctionContext;
  const event = { method: 'GET', body: '', rawBody: Buffer.alloc(0), headers: {}, query: {}, path: '/', signal: new AbortController().signal } as FunctionEvent;
  const err = await (async () => {
    try {
      await handler(event, context);
    } catch (e) {
      return e;
    }
  })();
  t.ok(err instanceof AppError);
  t.same(toErrorResponse(err), { status: 405, body: { error: { code: 'method_not_allowed', message: "compact runs on POST (the cron connector's method)" } } });
  t.same(headers, { allow: 'POST' });
});
