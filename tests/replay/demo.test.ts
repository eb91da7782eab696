/**
 * `npm run demo` end to end, offline: generates a small sample into $DATA_DIR/sample, runs the gateway
 * on it with --replay, announces the query URL, events reach the Redis stream, SIGTERM stops it all
 * with exit 0 and leaves the sample (and no partial file) for the next run.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { redisKeys } from '../../shared/redis.js';
import { makeTestEnv, waitFor } from '../helpers/env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

t.test('npm run demo: sample, pipeline, query URL, clean stop', async (t) => {
  const te = await makeTestEnv(t);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local-tools/demo.ts'), '--events', '3000', '--rate', 'max'], {
    cwd: ROOT,
    env: { ...te.env, PATH: process.env.PATH ?? '', GATEWAY_PORT: '0', INGEST_HTTP_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      child.kill('SIGKILL');
    }
  });

  const query = await waitFor('the query line', () => /^demo: the pipeline is running\. Query it at (http:\/\/127\.0\.0\.1:\d+\/function\/search\?\S+)$/m.exec(out)?.[1], 60_000).catch(
    (e: unknown) => {
      t.comment(`stdout:\n${out}\nstderr:\n${err.slice(-3000)}`);
      throw e;
    },
  );
  t.match(out, /demo: generating a sample of 3,000 events \(first run only\)/);
  const sampleDir = path.join(te.dataDir, 'sample');
  t.same(await readdir(sampleDir), ['events-3000-seed1.jsonl.gz'], 'the sample, and no partial file');

  const res = await fetch(query);
  t.equal(res.status, 200, 'the announced URL answers');
  await res.arrayBuffer();
  const stream = redisKeys(te.prefix).stream;
  await waitFor('events in the Redis stream', async () => (await te.redis.xlen(stream)) > 0, 30_000);

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops everything with exit 0');
});
