/** The OpenFaaS handler: builds its context from the environment's config and answers the run summary. */
import tap from 'tap';
import type { FunctionContext, FunctionEvent } from '../../shared/function-contract.js';
import { fixtureLines, xaddLines } from './helpers.js';
import { makeTestEnv } from '../helpers/env.js';

tap.test('handler runs one flush and returns the JSON summary', async (t) => {
  const env = await makeTestEnv(t, { FLUSH_CONSUMER: 'handler-test' });
  await xaddLines(env.redis, `${env.prefix}events`, fixtureLines('jetstream-golden-10.jsonl'));
  // The handler reads its configuration from process.env, as in a pod.
  const saved = { ...process.env };
  Object.assign(process.env, env.env);
  t.teardown(() => {
    for (const k of Object.keys(env.env)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  const mod = await import('../../functions/flush/handler.js');
  t.teardown(() => mod.destroy());
  await mod.init();
  let status = 200;
  const headers: Record<string, unknown> = {};
  const context: FunctionContext = {
    status(code) {
      status = code;
      return context;
    },
    headers(h) {
      Object.assign(headers, h);
      return context;
    },
    succeed() {},
    fail() {},
  };
  const event = (method: string) =>
    ({ method, body: '', rawBody: Buffer.alloc(0), headers: {}, query: {}, path: '/', signal: new AbortController().signal }) as FunctionEvent;

  await t.rejects(Promise.resolve(mod.default(event('GET'), context)), { status: 405, code: 'method_not_allowed' }, 'GET does not run a flush');
  t.same(headers, { allow: 'POST' });
  t.equal(await env.redis.xlen(`${env.prefix}events`), 10, 'nothing consumed by the GET');

  const result = (await mod.default(event('POST'), context)) as unknown as Record<string, unknown>;
  t.equal(status, 200);
  t.match(result, { status: 'ok', events_read: 10, files_written: 10, quarantined: 0, batches: 1, stream_length: 0 });
  t.type(result.duration_ms, 'number');

  await env.redis.set(`${env.prefix}lock:flush`, 'another-run', 'PX', 60_000);
  const locked = (await mod.default(event('POST'), context)) as unknown as Record<string, unknown>;
  t.equal(status, 409, 'a run in progress answers 409');
  t.match(locked, { status: 'locked', events_read: 0 });
});
