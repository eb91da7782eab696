/**
 * `npm run demo` end to end, offline: generates a small sample into $DATA_DIR/sample, runs the gateway
 * on it with --replay, announces the query URL, events reach the Redis stream, SIGTERM stops it all
 * with exit 0 and leaves the sample (and no partial file) for the next run.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { redisKeys } from '../../shared/redis.js';
import { spawnTsx } from '../helpers/child.js';
import { makeTestEnv, waitFor } from '../helpers/env.js';

t.test('npm run demo: sample, pipeline, query URL, clean stop', async (t) => {
  const te = await makeTestEnv(t);
  const { child, out, err, exited } = spawnTsx(
    t,
    'local-tools/demo.ts',
    ['--events', '3000', '--rate', 'max'],
    { ...te.env, GATEWAY_PORT: '0', INGEST_HTTP_PORT: '0', LOG_LEVEL: 'warn' },
    { stopSignal: 'SIGTERM' },
  );

  const query = await waitFor('the query line', () => /^demo: the pipeline is running\. Query it at (http:\/\/127\.0\.0\.1:\d+\/function\/search\?\S+)$/m.exec(out())?.[1], 60_000).catch(
    (e: unknown) => {
      t.comment(`stdout:\n${out()}\nstderr:\n${err().slice(-3000)}`);
      throw e;
    },
  );
  t.match(out(), /demo: generating a sample of 3,000 events \(first run only\)/);
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
