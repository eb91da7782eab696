import t from 'tap';
import { parseGatewayArgs } from '../../local-tools/gateway/args.js';
import { nextFire, validateSchedule } from '../../local-tools/gateway/cron.js';
import { functionEnv } from '../../local-tools/gateway/gateway.js';
import { parseStack, StackError, substituteEnv } from '../../local-tools/gateway/stack.js';
import { parseDurationMs } from '../../shared/config/sections/runtime.js';

t.test('substituteEnv follows faas-cli envsubst', async (t) => {
  const env = { A: 'a', EMPTY: '' };
  t.equal(substituteEnv('${A}/${B}', env), 'a/');
  t.equal(substituteEnv('${B:-dflt} ${EMPTY:-dflt} ${A:-dflt}', env), 'dflt dflt a');
  t.equal(substituteEnv('${EMPTY-dflt}|${B-dflt}', env), '|dflt');
  t.equal(substituteEnv('${REGISTRY:-ghcr.io/x}/bsky-flush:${TAG:-latest}', { TAG: 'v1' }), 'ghcr.io/x/bsky-flush:v1');
});

const STACK = `
version: 1.0
provider: { name: openfaas }
functions:
  tick:
    lang: node20-express
    handler: ./fns/tick
    image: \${REG:-local}/tick:latest
    environment: { N: 5, S: text }
    annotations: { topic: "other,cron-function", schedule: "*/2 * * * * *" }
  web:
    lang: node20-express
    handler: ./fns/web
    image: web
`;

t.test('parseStack reads functions, resolves handlers, finds cron ones', async (t) => {
  const stack = parseStack(STACK, { baseDir: '/proj', env: { REG: 'r.io' } });
  t.same(
    stack.functions.map((f) => [f.name, f.handlerDir, f.image, f.schedule]),
    [
      ['tick', '/proj/fns/tick', 'r.io/tick:latest', '*/2 * * * * *'],
      ['web', '/proj/fns/web', 'web', undefined],
    ],
  );
  t.same(stack.functions[0]!.environment, { N: '5', S: 'text' });
});

t.test('parseStack names what is wrong', async (t) => {
  t.throws(() => parseStack('functions:\n  a:\n    handler: ./a\n    image: a\n', { baseDir: '/', file: 's.yml' }), new StackError('s.yml', 'functions.a.lang is missing'));
  t.throws(
    () => parseStack('functions:\n  a:\n    lang: x\n    handler: ./a\n    image: a\n    annotations: { topic: cron-function }\n', { baseDir: '/', file: 's.yml' }),
    new StackError('s.yml', 'functions.a has topic cron-function but no schedule annotation'),
  );
  t.throws(() => parseStack('version: 1.0\n', { baseDir: '/', file: 's.yml' }), new StackError('s.yml', 'has no functions mapping'));
  t.throws(() => parseStack('functions:\n  Bad_Name:\n    lang: x\n', { baseDir: '/', file: 's.yml' }), /not a valid OpenFaaS name/);
});

t.test('nextFire: 5-field (minutes) and 6-field (seconds) schedules, UTC, strictly after', async (t) => {
  t.equal(nextFire('*/5 * * * *', new Date('2026-01-01T00:05:00.000Z')).toISOString(), '2026-01-01T00:10:00.000Z');
  t.equal(nextFire('*/5 * * * *', new Date('2026-01-01T00:04:59.999Z')).toISOString(), '2026-01-01T00:05:00.000Z');
  t.equal(nextFire('7 * * * *', new Date('2026-01-01T23:30:00Z')).toISOString(), '2026-01-02T00:07:00.000Z');
  t.equal(nextFire('*/2 * * * * *', new Date('2026-01-01T00:00:00.500Z')).toISOString(), '2026-01-01T00:00:02.000Z');
  t.equal(nextFire('* * * * *', new Date('2026-01-01T00:00:30Z')).toISOString(), '2026-01-01T00:01:00.000Z');
  t.doesNotThrow(() => validateSchedule('*/5 * * * *'));
  t.throws(() => validateSchedule('* * * *'), /must have 5 fields/);
  t.throws(() => validateSchedule('61 * * * *'));
});

t.test('gateway arguments', async (t) => {
  t.same(parseGatewayArgs([]), { stack: 'stack.yml', daemon: true, replay: undefined, rate: 'max', help: false });
  t.same(parseGatewayArgs(['--stack', 'x.yml', '--no-daemon']), { stack: 'x.yml', daemon: false, replay: undefined, rate: 'max', help: false });
  t.same(parseGatewayArgs(['--replay', 'f.jsonl', '--rate', '250']), { stack: 'stack.yml', daemon: true, replay: 'f.jsonl', rate: 250, help: false });
  t.equal(parseGatewayArgs(['--replay', 'f.jsonl', '--rate', 'max']).rate, 'max');
  t.throws(() => parseGatewayArgs(['--replay', 'f', '--rate', 'fast']), /--rate must be a positive number/);
  t.throws(() => parseGatewayArgs(['--rate', '5']), /--rate only applies with --replay/);
  t.throws(() => parseGatewayArgs(['--bogus']), /bogus/);
});

t.test("a function's environment is the gateway's with the stack's on top", async (t) => {
  const fn = parseStack(STACK, { baseDir: '/p' }).functions[0]!;
  t.same(functionEnv({ N: '1', KEEP: 'k' }, fn), { N: '5', KEEP: 'k', S: 'text' });
});

t.test('watchdog-style durations', async (t) => {
  t.equal(parseDurationMs('15m'), 900_000);
  t.equal(parseDurationMs('30s'), 30_000);
  t.equal(parseDurationMs('10'), 10_000);
  t.equal(parseDurationMs('500ms'), 500);
  t.equal(parseDurationMs('1h'), 3_600_000);
  t.throws(() => parseDurationMs('soon'));
});
