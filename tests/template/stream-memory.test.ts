import t from 'tap';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURES, spawnFunction } from './spawn-function.js';

const TOTAL = 100 * 1024 * 1024;

async function peakRssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error('no VmHWM in /proc status');
  return Number(m[1]);
}

t.test('a 100 MB Readable is streamed with back-pressure: peak RSS stays under 150 MB', async (t) => {
  const fn = await spawnFunction(t, { FUNCTION_NAME: 'stream', FUNCTION_HANDLER: path.join(FIXTURES, 'basic/handler.ts') });
  const { status, type, received } = await new Promise<{ status: number; type: string; received: number }>((resolve, reject) => {
    http
      .get(`${fn.url}/stream?bytes=${TOTAL}`, (res) => {
        let received = 0;
        res.on('data', (c: Buffer) => (received += c.length));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), received }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
  t.equal(status, 200);
  t.equal(type, 'application/octet-stream');
  t.equal(received, TOTAL, 'the client got every byte');
  const peakKb = await peakRssKb(fn.pid);
  t.comment(`server peak RSS (VmHWM): ${(peakKb / 1024).toFixed(1)} MB`);
  t.ok(peakKb < 150 * 1024, `peak RSS ${peakKb} kB < 150 MB`);
});
