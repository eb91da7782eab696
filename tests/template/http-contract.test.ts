import t from 'tap';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from '../helpers/env.js';
import { FIXTURES, spawnFunction } from './spawn-function.js';

/** One function process serves every check below; the last one sends it SIGTERM. */
t.test('template over HTTP', async (t) => {
  const fn = await spawnFunction(t, {
    FUNCTION_NAME: 'basic',
    FUNCTION_HANDLER: path.join(FIXTURES, 'basic/handler.ts'),
    FUNCTION_MAX_BODY_BYTES: '1000',
    exec_timeout: '2s',
    SHUTDOWN_GRACE: '10s',
  });
  const get = (p: string, init?: RequestInit) => fetch(fn.url + p, init);

  t.test('an object is sent as application/json', async (t) => {
    const res = await get('/json');
    t.equal(res.status, 200);
    t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    t.same(await res.json(), { hello: 'world', n: 1 });
  });

  t.test('a string is text/plain unless the handler set a content-type', async (t) => {
    const text = await get('/text');
    t.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
    t.equal(await text.text(), 'plain words');
    const html = await get('/html');
    t.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
    t.equal(await html.text(), '<p>hi</p>');
  });

  t.test('a Buffer is sent as is', async (t) => {
    const res = await get('/buffer');
    t.equal(res.headers.get('content-type'), 'application/octet-stream');
    t.same([...new Uint8Array(await res.arrayBuffer())], [0, 1, 2, 3]);
  });

  t.test('context.status/headers/succeed', async (t) => {
    const res = await get('/status');
    t.equal(res.status, 201);
    t.equal(res.headers.get('x-fixture'), 'yes');
    t.same(await res.json(), { created: true });
  });

  t.test('a thrown error or a rejected promise is a 500 with a JSON body and no internals', async (t) => {
    for (const p of ['/throw', '/reject']) {
      const res = await get(p);
      t.equal(res.status, 500, p);
      t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      const text = await res.text();
      t.same(JSON.parse(text), { error: { code: 'internal_error', message: 'internal error' } });
      t.notMatch(text, /detail|at handler/);
    }
    await waitFor('the 500 logged at error level', () => fn.stderr().includes('"level":"error"') && fn.stderr().includes('secret internal detail'));
  });

  t.test('a thrown BadRequestError is a 400 with code and param; context.fail the same', async (t) => {
    const bad = await get('/bad');
    t.equal(bad.status, 400);
    t.same(await bad.json(), { error: { code: 'invalid_param', message: 'n must be a number', param: 'n' } });
    const failed = await get('/fail');
    t.equal(failed.status, 400);
    t.same(await failed.json(), { error: { code: 'failed_here', message: 'context.fail was called', param: 'x' } });
  });

  t.test('a stream that fails before its first chunk is still a JSON 500', async (t) => {
    const res = await get('/stream-fails-early');
    t.equal(res.status, 500);
    t.same(await res.json(), { error: { code: 'internal_error', message: 'internal error' } });
  });

  t.test('a stream that fails midway cuts the connection (never a complete-looking 200)', async (t) => {
    const res = await get('/stream-fails-late');
    t.equal(res.status, 200, 'the status went out with the first chunk');
    await t.rejects(res.text(), 'reading the body fails: the answer is visibly incomplete');
    await waitFor('the failure logged at error level', () => fn.stderr().includes('query failed midway'));
    t.equal((await get('/json')).status, 200, 'the server carries on');
  });

  t.test('event carries method, path, query (repeated → array) and the decoded body', async (t) => {
    const q = await get('/echo?a=1&a=2&b=x');
    t.same(await q.json(), { method: 'GET', path: '/echo', query: { a: ['1', '2'], b: 'x' }, body: '', rawLength: 0 });
    const post = await get('/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"k":[1,2]}' });
    t.same(await post.json(), { method: 'POST', path: '/echo', query: {}, body: { k: [1, 2] }, rawLength: 11 });
    const text = await get('/echo', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    t.same(((await text.json()) as { body: unknown }).body, 'hello');
  });

  t.test('bad JSON is a 400, a too large body a 413', async (t) => {
    const bad = await get('/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"k":' });
    t.equal(bad.status, 400);
    t.same(await bad.json(), { error: { code: 'invalid_json', message: 'request body is not valid JSON', param: 'body' } });
    const big = await get('/echo', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(1001) });
    t.equal(big.status, 413);
    t.equal(((await big.json()) as { error: { code: string } }).error.code, 'payload_too_large');
  });

  t.test('exec_timeout answers 504 and aborts the handler', async (t) => {
    const res = await get('/wait');
    t.equal(res.status, 504);
    t.same(await res.json(), { error: { code: 'timeout', message: 'function did not finish within 2000 ms' } });
  });

  t.test('a client that goes away stops the stream source and aborts event.signal', async (t) => {
    const ac = new AbortController();
    const res = await get('/stream?bytes=1000000000', { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await waitFor('the source destroyed', () => /stream source closed early with \d+ bytes unsent/.test(fn.stdout()));
    await waitFor('logged as a client disconnect, not a failure', () => fn.stderr().includes('client went away during the answer'));
    const wait = new AbortController();
    const pending = get('/wait', { signal: wait.signal }).catch((err: Error) => err.name);
    await waitFor('the /wait request in flight', async () => /function_requests_in_flight\{function="basic"\} 1/.test(await (await get('/metrics')).text()));
    wait.abort();
    t.equal(await pending, 'AbortError');
    await waitFor('the handler saw the abort', () => fn.stdout().includes('signal aborted: client closed the connection'));
  });

  t.test('/_/health and /metrics', async (t) => {
    const health = await get('/_/health');
    t.equal(health.status, 200);
    t.equal(await health.text(), 'OK');
    const metrics = await (await get('/metrics')).text();
    t.match(metrics, /^function_requests_total\{function="basic",code="500"\} 3$/m);
    t.match(metrics, /^function_requests_total\{function="basic",code="400"\} 3$/m);
    t.match(metrics, /^function_requests_total\{function="basic",code="504"\} 1$/m);
    t.match(metrics, /^function_request_duration_seconds_count\{function="basic",code="201"\} 1$/m);
    t.match(metrics, /^function_requests_in_flight\{function="basic"\} 0$/m);
    t.match(metrics, /^process_resident_memory_bytes \d+/m);
  });

  t.test('SIGTERM: a slow request finishes, new connections are refused, destroy() runs, exit 0', async (t) => {
    const chunks: string[] = [];
    let firstChunk!: () => void;
    const started = new Promise<void>((r) => (firstChunk = r));
    const slow = fetch(fn.url + '/slow?ms=700').then(async (res) => {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(Buffer.from(value).toString());
        firstChunk();
      }
      return res.status;
    });
    await started;
    fn.child.kill('SIGTERM');
    await waitFor('shutdown logged', () => fn.stderr().includes('shutting down'));
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(fn.port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    t.equal(refused, 'ECONNREFUSED', 'a new connection is refused while draining');
    t.equal(await slow, 200);
    t.equal(chunks.join(''), 'start;end', 'the in-flight answer is complete');
    const { code, signal } = await fn.exited;
    t.equal(code, 0);
    t.equal(signal, null);
    t.match(fn.stdout(), /fixture destroyed/);
  });
});
