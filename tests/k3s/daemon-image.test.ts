/**
 * The daemon image's build step, without Docker: the exact esbuild command of ingest-daemon/Dockerfile
 * bundles the daemon into one file, and that file alone (no node_modules beside it, as in the
 * distroless image) runs: ingests the real fixture into Redis, answers /healthz 200 on
 * INGEST_HTTP_PORT, exports its metrics, and exits 0 on SIGTERM.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startReplayServer } from '../../local-tools/replay-server/server.js';
import { makeTestEnv, waitFor } from '../helpers/env.js';
import { freePort, start } from '../monitoring/lib/procs.js';
import { ROOT } from './lib/manifests.js';

const run = promisify(execFile);

/** The arguments of the Dockerfile's `RUN npx esbuild …` line (shell-style quotes honoured). */
function esbuildArgs(): string[] {
  const line = readFileSync(path.join(ROOT, 'ingest-daemon/Dockerfile'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('RUN npx esbuild '));
  if (!line) throw new Error('no `RUN npx esbuild` line in ingest-daemon/Dockerfile');
  const words = [...line.slice('RUN npx esbuild '.length).matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return words;
}

t.test('the Dockerfile bundle runs on its own: ingest, /healthz, /metrics, clean SIGTERM', async (t) => {
  const env = await makeTestEnv(t);
  const out = mkdtempSync(path.join(os.tmpdir(), 'bsky-daemon-image-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));

  const args = esbuildArgs().map((a) => (a.startsWith('--outfile=') ? `--outfile=${path.join(out, 'build.mjs')}` : a));
  t.ok(args.includes('--bundle') && args.includes('--platform=node'), 'bundles for node');
  const meta = path.join(out, 'meta.json');
  await run(path.join(ROOT, 'node_modules/.bin/esbuild'), [...args, `--metafile=${meta}`], { cwd: ROOT, timeout: 60_000 });
  // Everything the bundle reads is in the build context the Dockerfile's .dockerignore lets through.
  const inputs = Object.keys((JSON.parse(readFileSync(meta, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
  const allowed = readFileSync(path.join(ROOT, 'ingest-daemon/Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!') && l.endsWith('/'))
    .map((l) => l.slice(1));
  t.same(inputs.filter((f) => !f.startsWith('node_modules/') && !allowed.some((a) => f.startsWith(a))), [], `bundle inputs within ${allowed.join(', ')} (+ node_modules from npm ci)`);
  // The runtime stage holds this one file in an empty folder.
  const app = mkdtempSync(path.join(out, 'app-'));
  copyFileSync(path.join(out, 'build.mjs'), path.join(app, 'ingest-daemon.mjs'));
  const size = statSync(path.join(app, 'ingest-daemon.mjs')).size;
  t.ok(size < 5_000_000, `bundle is ${(size / 1e6).toFixed(2)} MB`);

  const replay = await startReplayServer({ file: path.join(ROOT, 'tests/fixtures/jetstream-real-152.jsonl'), port: 0 });
  t.teardown(() => replay.close());
  const port = await freePort();
  const daemon = start(process.execPath, ['ingest-daemon.mjs'], {
    cwd: app,
    env: { PATH: process.env.PATH, ...env.env, JETSTREAM_URL: replay.url, INGEST_HTTP_PORT: String(port), NODE_ENV: 'production' },
  });
  t.teardown(() => daemon.stop());
  await waitFor('152 events in the stream', async () => (await env.redis.xlen(`${env.prefix}events`)) === 152, 20_000, 50).catch((err) => {
    throw new Error(`${String(err)}\n${daemon.output()}`);
  });
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.equal(health.status, 200, '/healthz 200');
  t.match(await health.json(), { connected: true, redis: 'ok' });
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(metrics, /^ingest_written_total 152$/m, 'metrics exported');
  t.equal(await daemon.stop(), 0, 'exit 0 on SIGTERM');
  t.ok(await env.redis.get(`${env.prefix}cursor`), 'cursor saved on the way out');
});
