/**
 * The pieces under k3s/ name each other consistently: the volume policies add the Parquet claim that
 * exists, in the namespace it exists in, for the labels stack.yml uses; the backups mount the claims
 * that exist; the daemon's probes, port and grace period fit its code; Redis's maxmemory holds a full
 * stream at the measured size of a real event; the alert and the exporter use the daemon's cap and key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { loadConfig } from '../../shared/config/index.js';
import { redisKeys } from '../../shared/redis.js';
import { makeTestEnv } from '../helpers/env.js';
import { ROOT, findObject, parseDocs, podSpecOf, type K8sObject } from './lib/manifests.js';

const pvc = findObject('PersistentVolumeClaim', 'parquet');
const daemon = findObject('Deployment', 'ingest-daemon', 'bsky');
const daemonEnv = (findObject('ConfigMap', 'ingest-config', 'bsky') as K8sObject & { data: Record<string, string> }).data;
const redisSts = findObject('StatefulSet', 'redis', 'bsky');
const DATA_NODE = { 'bsky.pipeline/data-node': 'true' };

t.test('the Parquet claim: local-path, ReadWriteOnce, in openfaas-fn', async (t) => {
  t.equal(pvc.metadata.namespace, 'openfaas-fn');
  t.same((pvc.spec as any).accessModes, ['ReadWriteOnce']);
  t.equal((pvc.spec as any).storageClassName, 'local-path');
});

t.test('Kyverno policy: labelled pods in the claim\'s namespace get the claim, read-only for "ro"', async (t) => {
  const policy = findObject('ClusterPolicy', 'bsky-parquet-volume');
  t.equal(policy.metadata.annotations?.['pod-policies.kyverno.io/autogen-controllers'], 'none', 'mutates Pods only (faas-netes owns the Deployments)');
  const rules = (policy.spec as any).rules as any[];
  const byAccess = new Map<string, any>();
  for (const r of rules) {
    const res = r.match.any[0].resources;
    t.same(res.kinds, ['Pod'], `${r.name}: matches Pods`);
    t.same(res.namespaces, [pvc.metadata.namespace], `${r.name}: in the claim's namespace`);
    byAccess.set(res.selector.matchLabels['bsky.pipeline/parquet-access'], r.mutate.patchStrategicMerge.spec);
  }
  t.same([...byAccess.keys()].sort(), ['ro', 'rw'], 'one rule per label value');
  for (const [access, spec] of byAccess) {
    const ro = access === 'ro';
    t.same(spec.nodeSelector, DATA_NODE, `${access}: pinned to the data node`);
    t.equal(spec.volumes.length, 1);
    t.equal(spec.volumes[0].persistentVolumeClaim.claimName, pvc.metadata.name, `${access}: mounts the claim that exists`);
    t.equal(spec.volumes[0].persistentVolumeClaim.readOnly ?? false, ro, `${access}: claim readOnly=${ro}`);
    const c = spec.containers[0];
    t.equal(c['(name)'], '*', `${access}: every container`);
    t.same(c.volumeMounts, [{ name: spec.volumes[0].name, mountPath: '/data', ...(ro ? { readOnly: true } : {}) }], `${access}: mount`);
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    t.same(env, { DATA_DIR: '/data', PARQUET_DIR: '/data/parquet' }, `${access}: paths`);
    // The paths mean what the config module makes of them.
    const cfg = loadConfig(env);
    t.equal(cfg.storage.parquetDir, '/data/parquet');
    t.equal(path.dirname(cfg.storage.quarantineDir), '/data', 'quarantine also on the volume');
  }
});

t.test('MutatingAdmissionPolicy: same claim, labels, paths and node as the Kyverno policy', async (t) => {
  const map = findObject('MutatingAdmissionPolicy', 'bsky-parquet-volume');
  const binding = findObject('MutatingAdmissionPolicyBinding', 'bsky-parquet-volume');
  t.equal(map.apiVersion, 'admissionregistration.k8s.io/v1');
  t.equal(binding.apiVersion, map.apiVersion, 'binding in the same API version');
  const b = binding.spec as any;
  t.equal(b.policyName, map.metadata.name, 'binding names the policy');
  t.same(b.matchResources.namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': pvc.metadata.namespace });
  t.same(b.matchResources.objectSelector.matchExpressions, [{ key: 'bsky.pipeline/parquet-access', operator: 'In', values: ['rw', 'ro'] }]);
  const spec = map.spec as any;
  t.same(spec.matchConstraints.resourceRules, [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }]);
  const apply = spec.mutations.find((m: any) => m.patchType === 'ApplyConfiguration').applyConfiguration.expression as string;
  t.match(apply, `claimName: "${pvc.metadata.name}"`);
  t.match(apply, 'mountPath: "/data"');
  t.match(apply, 'name: "PARQUET_DIR", value: "/data/parquet"');
  t.match(apply, 'name: "DATA_DIR", value: "/data"');
  t.equal(spec.variables.find((v: any) => v.name === 'readOnly').expression, "object.metadata.labels['bsky.pipeline/parquet-access'] == 'ro'");
  const patch = spec.mutations.find((m: any) => m.patchType === 'JSONPatch').jsonPatch.expression as string;
  t.match(patch, 'jsonpatch.escapeKey("bsky.pipeline/data-node")');
  t.match(patch, '{"bsky.pipeline/data-node": "true"}');
  // Balanced braces/brackets/parens in the CEL (the cheap syntax check possible without an API server).
  for (const expr of [apply, patch]) {
    for (const [o, c] of [['{', '}'], ['[', ']'], ['(', ')']] as const) t.equal(expr.split(o).length, expr.split(c).length, `balanced ${o}${c}`);
  }
});

t.test('backups mount the claims that exist, on the data node, with the restic Secret', async (t) => {
  const parquetJob = findObject('CronJob', 'backup-parquet', pvc.metadata.namespace);
  const redisJob = findObject('CronJob', 'backup-redis', 'bsky');
  const claim = (o: K8sObject, vol: string) => podSpecOf(o)!.volumes.find((v: any) => v.name === vol).persistentVolumeClaim;
  t.same(claim(parquetJob, 'parquet'), { claimName: pvc.metadata.name, readOnly: true });
  const vct = (redisSts.spec as any).volumeClaimTemplates[0].metadata.name;
  t.same(claim(redisJob, 'redis-data'), { claimName: `${vct}-${redisSts.metadata.name}-0`, readOnly: true }, 'the StatefulSet pod\'s claim name');
  for (const job of [parquetJob, redisJob]) {
    const pod = podSpecOf(job)!;
    t.same(pod.nodeSelector, DATA_NODE, `${job.metadata.name}: on the data node`);
    t.same(pod.containers[0].envFrom, [{ secretRef: { name: 'backup-restic' } }]);
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
    t.equal(env.BACKUP_HOST, 'bsky', 'fixed host name, so retention groups snapshots across pods');
    t.ok(Number(env.KEEP_DAILY) > 0, 'retention policy set');
    t.equal((job.spec as any).concurrencyPolicy, 'Forbid');
  }
  const dataMount = podSpecOf(parquetJob)!.containers[0].volumeMounts.find((m: any) => m.name === 'parquet');
  t.equal(dataMount.mountPath, podSpecOf(parquetJob)!.containers[0].env.find((e: any) => e.name === 'BACKUP_PATHS').value, 'backs up what it mounts');
  const redisConf = readConf();
  const redisPaths = podSpecOf(redisJob)!.containers[0].env.find((e: any) => e.name === 'BACKUP_PATHS').value as string;
  t.ok(redisPaths.split(' ').includes(`/redis/${redisConf.appenddirname}`), 'backs up the AOF directory Redis writes');
  const [h1] = (parquetJob.spec as any).schedule.split(' ').slice(1);
  const [h2] = (redisJob.spec as any).schedule.split(' ').slice(1);
  t.not(h1, h2, 'the two backups run in different hours (prune needs the repository alone)');
});

function readConf(): Record<string, string> {
  const cm = findObject('ConfigMap', 'redis-config', 'bsky') as K8sObject & { data: Record<string, string> };
  return Object.fromEntries(
    cm.data['redis.conf']!
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.split(/\s+/)[0]!, l.slice(l.indexOf(' ') + 1)]),
  );
}

function bytes(size: string): number {
  const m = /^(\d+)(kb|mb|gb)?$/i.exec(size);
  if (!m) throw new Error(`bad size ${size}`);
  return Number(m[1]) * ({ kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as 'kb'] ?? 1);
}

t.test('Redis: AOF everysec, noeviction, maxmemory holds a full stream of real events', async (t) => {
  const conf = readConf();
  t.equal(conf.appendonly, 'yes');
  t.equal(conf.appendfsync, 'everysec');
  t.equal(conf['maxmemory-policy'], 'noeviction');
  // Measure what one real event costs in a Redis stream (the same XADD field the daemon writes).
  const env = await makeTestEnv(t);
  const lines = readFileSync(path.join(ROOT, 'tests/fixtures/jetstream-real-152.jsonl'), 'utf8').split('\n').filter(Boolean);
  const key = redisKeys(env.prefix).stream;
  const n = lines.length * 40;
  for (let i = 0; i < n; i += 1000) {
    const p = env.redis.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) p.xadd(key, '*', 'e', lines[j % lines.length]!);
    await p.exec();
  }
  const perEntry = Number(await env.redis.memory('USAGE', key, 'SAMPLES', '0')) / n;
  t.ok(perEntry > 500 && perEntry < 800, `${perEntry.toFixed(0)} bytes of Redis memory per real event`);
  const cap = Number(daemonEnv.STREAM_MAXLEN);
  const needed = cap * perEntry * 1.15;
  t.ok(bytes(conf.maxmemory!) >= needed, `maxmemory ${conf.maxmemory} >= STREAM_MAXLEN ${cap} x ${perEntry.toFixed(0)} B x 1.15 = ${(needed / 1024 ** 3).toFixed(2)} GiB`);
  const limit = (redisSts.spec as any).template.spec.containers.find((c: any) => c.name === 'redis').resources.limits.memory as string;
  t.ok(bytes(limit.replace(/Gi$/, 'gb')) >= bytes(conf.maxmemory!) * 1.25, `container limit ${limit} leaves room above maxmemory for AOF rewrites`);
});

t.test('the daemon: one replica, Recreate, probes on its /healthz port, config the code accepts', async (t) => {
  const spec = daemon.spec as any;
  t.equal(spec.replicas, 1);
  t.equal(spec.strategy.type, 'Recreate');
  const pod = spec.template.spec;
  t.same(pod.nodeSelector, DATA_NODE);
  const c = pod.containers[0];
  const cfg = loadConfig(daemonEnv); // throws on any setting the code rejects
  t.equal(c.ports[0].containerPort, cfg.ingest.httpPort);
  for (const probe of [c.readinessProbe, c.livenessProbe]) t.same(probe.httpGet, { path: '/healthz', port: 'http' });
  t.equal(c.ports[0].name, 'http');
  t.ok(pod.terminationGracePeriodSeconds * 1000 >= cfg.ingest.shutdownTimeoutMs + 5000, 'grace period covers the daemon\'s own shutdown deadline');
  t.equal(pod.metadata?.annotations, undefined);
  t.equal(spec.template.metadata.annotations['prometheus.io/port'], String(cfg.ingest.httpPort));
  t.same(c.envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name), ['ingest-config', 'ingest-secrets']);
  t.equal(c.envFrom[1].secretRef.optional, true, 'the Secret is optional');
  t.match(cfg.redis.url, /^redis:\/\/redis\.bsky\.svc\.cluster\.local:6379$/);
  const service = findObject('Service', 'redis', 'bsky');
  t.equal((service.spec as any).ports.find((p: any) => p.name === 'redis').port, 6379);

  // The exporter watches the daemon's stream key; the alert uses the daemon's cap.
  const exporter = (redisSts.spec as any).template.spec.containers.find((c: any) => c.name === 'redis-exporter');
  const streams = exporter.env.find((e: any) => e.name === 'REDIS_EXPORTER_CHECK_SINGLE_STREAMS').value;
  t.equal(streams, `db0=${redisKeys(cfg.redis.prefix).stream}`);
  const rule = YAML.parse(readFileSync(path.join(ROOT, 'k3s/monitoring/prometheus-rule.yaml'), 'utf8'));
  const nearCap = rule.spec.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === 'BskyStreamNearCap');
  t.match(nearCap.expr, new RegExp(`/ ${cfg.redis.streamMaxLen} `), 'alert divides by STREAM_MAXLEN');
  t.equal(parseDocs('k3s/base/ingest-daemon.yaml').length, 3);
});
