import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { validateSchedule } from '../../local-tools/gateway/cron.js';
import { parseStack } from '../../local-tools/gateway/stack.js';
import { parseDurationMs } from '../../shared/config/sections/runtime.js';
import { ROOT } from '../template/spawn-function.js';

const ACCESS: Record<string, 'rw' | 'ro'> = { flush: 'rw', compact: 'rw', enrich: 'rw', search: 'ro', export: 'ro', counts: 'ro', docs: 'ro' };
const CRON: Record<string, string> = { flush: '*/5 * * * *', compact: '7 * * * *' };

t.test('stack.yml lists every function with what OpenFaaS and the gateway need', async (t) => {
  const text = await readFile(path.join(ROOT, 'stack.yml'), 'utf8');
  const stack = parseStack(text, { baseDir: ROOT, env: {} });
  t.equal(stack.version, '1');
  t.same(stack.functions.map((f) => f.name).sort(), Object.keys(ACCESS).sort());
  t.same(stack.copy, ['./shared', './package.json', './package-lock.json']);
  for (const f of stack.functions) {
    t.equal(f.lang, 'node20-express', `${f.name}: lang`);
    t.ok(existsSync(path.join(ROOT, 'template', f.lang, 'template.yml')), `${f.name}: template/${f.lang} exists`);
    t.equal(f.handlerDir, path.join(ROOT, 'functions', f.name), `${f.name}: handler folder`);
    t.equal(f.image, `ghcr.io/bsky-pipeline/bsky-${f.name}:latest`, `${f.name}: image with defaults substituted`);
    t.equal(f.environment.FUNCTION_NAME, f.name);
    for (const k of ['exec_timeout', 'read_timeout', 'write_timeout']) {
      t.ok(f.environment[k] && parseDurationMs(f.environment[k]!) > 0, `${f.name}: ${k}`);
    }
    t.ok(parseDurationMs(f.environment.write_timeout!) >= parseDurationMs(f.environment.exec_timeout!), `${f.name}: write_timeout covers exec_timeout`);
    t.equal(f.labels['bsky.pipeline/parquet-access'], ACCESS[f.name], `${f.name}: parquet access`);
    t.ok(Number(f.labels['com.openfaas.scale.min']) >= 1 && Number(f.labels['com.openfaas.scale.max']) >= Number(f.labels['com.openfaas.scale.min']), `${f.name}: scale`);
    t.equal(f.annotations['prometheus.io.scrape'], 'true');
    t.equal(f.annotations['prometheus.io.port'], '8080');
    t.equal(f.annotations['prometheus.io.path'], '/metrics');
    t.equal(f.schedule, CRON[f.name], `${f.name}: schedule`);
    if (f.schedule) {
      t.equal(f.annotations.topic, 'cron-function');
      t.doesNotThrow(() => validateSchedule(f.schedule!));
    }
  }
  const raw = parse(text) as { functions: Record<string, { limits?: { memory?: string }; requests?: { memory?: string }; environment_file?: string[] }> };
  for (const [name, f] of Object.entries(raw.functions)) {
    t.ok(f.limits?.memory && f.requests?.memory, `${name}: limits and requests`);
    t.same(f.environment_file, ['stack.env.yml'], `${name}: cluster settings by reference`);
  }
  t.ok(existsSync(path.join(ROOT, 'stack.env.yml')));
  for (const p of stack.copy) t.ok(existsSync(path.join(ROOT, p)), `copy path ${p} exists`);
});
