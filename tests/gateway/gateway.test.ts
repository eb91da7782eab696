/**
 * `npm start` end to end, as a child process with a fixture stack: sub-paths and queries reach the
 * handler through the template factory, the stack's environment reaches the function, a missing
 * handler answers 501, a seconds-schedule cron function is invoked with the cron-connector's request,
 * and SIGTERM stops everything with exit 0.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { spawnTsx } from '../helpers/child.js';
import { makeTestEnv, waitFor } from '../helpers/env.js';
import { FIXTURES, ROOT } from '../template/spawn-function.js';

t.test('local gateway serves a fixture stack and fires its cron function', async (t) => {
  const te = await makeTestEnv(t);
  const stackFile = path.join(te.dataDir, 'stack.yml');
  await writeFile(
    stackFile,
    `version: 1.0
provider: { name: openfaas }
functions:
  basic:
    lang: node20-express
    handler: ${path.join(FIXTURES, 'basic')}
    image: basic
    environment:
      FIXTURE_SETTING: from-stack
  tick:
    lang: node20-express
    handler: ${path.join(FIXTURES, 'cron')}
    image: tick
    annotations:
      topic: cron-function
      schedule: "* * * * * *"
  ghost:
    lang: node20-express
    handler: ./functions-that-do-not-exist/ghost
    image: ghost
`,
  );
  const { child, out, err, exited } = spawnTsx(t, 'local-tools/gateway/main.ts', ['--stack', stackFile, '--no-daemon'], {
    ...te.env,
    GATEWAY_PORT: '0',
    LOG_LEVEL: 'info',
  });

  const base = await waitFor('the ready line', () => /gateway ready: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out())?.[1], 30_000);
  t.match(out(), /functions: basic, tick, ghost/);

  const echo = await fetch(`${base}/function/basic/echo/sub/path?x=1&x=2&y=z`);
  t.equal(echo.status, 200);
  t.same(await echo.json(), { method: 'GET', path: '/echo/sub/path', query: { x: ['1', '2'], y: 'z' } });

  const env = await fetch(`${base}/function/basic/env`);
  t.same(await env.json(), { setting: 'from-stack' }, "the stack's environment reached the function");

  const thrown = await fetch(`${base}/function/basic/throw`);
  t.equal(thrown.status, 500);
  t.same(await thrown.json(), { error: { code: 'internal_error', message: 'internal error' } });

  const ghost = await fetch(`${base}/function/ghost`);
  t.equal(ghost.status, 501);
  t.same(await ghost.json(), { error: { code: 'not_implemented', message: `function ghost has no handler yet (${path.relative(ROOT, path.join(te.dataDir, 'functions-that-do-not-exist/ghost'))}/handler.ts)` } });

  const unknown = await fetch(`${base}/function/nope`);
  t.equal(unknown.status, 404);

  type Call = { method: string; path: string; headers: Record<string, string>; bodyLength: number; query: unknown };
  const calls = await waitFor(
    'a cron invocation',
    async () => {
      const { calls } = (await (await fetch(`${base}/function/tick`)).json()) as { calls: Call[] };
      return calls.length > 0 ? calls : undefined;
    },
    10_000,
    100,
  );
  const call = calls[0]!;
  t.equal(call.method, 'POST');
  t.equal(call.path, '/');
  t.same(call.query, {});
  t.equal(call.bodyLength, 0);
  t.equal(call.headers['x-topic'], 'cron-function');
  t.equal(call.headers['x-connector'], 'cron-connector');
  await waitFor('the cron result logged', () => err().includes('"function":"tick","status":200') && err().includes('cron: done'));

  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /^function_requests_total\{function="ghost",code="501"\} 1$/m);

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 after SIGTERM');
  t.match(out(), /fixture destroyed/, "the function's destroy() ran");
  t.match(err(), /"msg":"stopped"/);
});

t.test('without Redis and without redis-server on PATH the gateway exits 1 saying how to get Redis', async (t) => {
  const te = await makeTestEnv(t);
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local-tools/gateway/main.ts'), '--no-daemon'], {
    cwd: ROOT,
    env: { ...te.env, PATH: '/nonexistent', REDIS_URL: `redis://127.0.0.1:${port}`, GATEWAY_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.equal(code, 1);
  t.match(err, `gateway: nothing answers at REDIS_URL=redis://127.0.0.1:${port} and redis-server is not on PATH. Install Redis`);
});
