import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureRedis, pingRedis, supervise } from '../../local-tools/gateway/processes.js';
import { createLogger } from '../../shared/log.js';
import { waitFor } from '../helpers/env.js';

const log = createLogger('test', { level: 'silent' });

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

t.test('ensureRedis starts redis-server (AOF on) when nothing answers, and stops it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bsky-gw-redis-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const url = `redis://127.0.0.1:${await freePort()}`;
  t.equal(await pingRedis(url, 300), false);
  const redis = await ensureRedis(url, dir, log);
  t.teardown(() => redis.stop());
  t.equal(redis.started, true);
  t.equal(await pingRedis(url), true);
  t.ok(existsSync(path.join(dir, 'appendonlydir')) || existsSync(path.join(dir, 'appendonly.aof')), 'append-only file in the data dir');
  await redis.stop();
  t.equal(await pingRedis(url, 300), false, 'stopped');
});

t.test('ensureRedis uses a running server and explains how to get one otherwise', async (t) => {
  const running = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', os.tmpdir(), log);
  t.equal(running.started, false);
  const url = `redis://127.0.0.1:${await freePort()}`;
  await t.rejects(ensureRedis(url, os.tmpdir(), log, '/nonexistent'), /redis-server is not on PATH\. Install Redis/);
});

t.test('supervise restarts a child that dies and stops it with SIGTERM', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bsky-gw-sup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const marks = path.join(dir, 'starts.txt');
  const script = path.join(dir, 'child.ts');
  // Dies on its first start; stays up (until SIGTERM) on the second.
  await writeFile(
    script,
    `import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(marks)}, 'start\\n');
if (readFileSync(${JSON.stringify(marks)}, 'utf8').split('\\n').length - 1 === 1) process.exit(3);
process.on('SIGTERM', () => { appendFileSync(${JSON.stringify(marks)}, 'term\\n'); process.exit(0); });
setInterval(() => {}, 1000);
`,
  );
  const sup = supervise('child', script, { cwd: process.cwd(), env: process.env, log });
  t.teardown(() => sup.stop());
  await waitFor('the restart', async () => (await readFile(marks, 'utf8').catch(() => '')) === 'start\nstart\n', 15_000);
  await sup.stop();
  t.equal(await readFile(marks, 'utf8'), 'start\nstart\nterm\n');
});
