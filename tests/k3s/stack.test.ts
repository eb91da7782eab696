/**
 * stack.yml (owned by the functions' side) and k3s/ agree: every function has an image, the label the
 * volume policies match (rw exactly for flush/compact/enrich), constraints that pin it where the
 * Parquet volume is, timeouts within the gateway's, the scrape annotations the Prometheus job reads,
 * the Redis prefix the daemon writes with; the plain-Kubernetes manifests generated from it match.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import t from 'tap';
import YAML from 'yaml';
import { parseDurationMs } from '../../shared/config/sections/runtime.js';
import { defaultEnv, readStack, renderPlain, timeoutSeconds } from '../../k3s/plain/generate.js';
import { ROOT, findObject, plainDocs, podSpecOf, type K8sObject } from './lib/manifests.js';

const env = defaultEnv({}); // REGISTRY unset, TAG = package.json's version
const fns = readStack(env);
const byName = new Map(fns);
const RW = ['compact', 'enrich', 'flush'];
const RO = ['counts', 'docs', 'export', 'search'];
const values = YAML.parse(readFileSync(path.join(ROOT, 'k3s/openfaas/values.yaml'), 'utf8'));
const policy = findObject('ClusterPolicy', 'bsky-parquet-volume');

t.test('every function of stack.yml has an image from our template', async (t) => {
  t.same([...byName.keys()].sort(), [...RW, ...RO].sort());
  for (const [name, fn] of fns) {
    t.match(fn.image, new RegExp(`^[a-z0-9.-]+(/[a-z0-9._-]+)+/bsky-${name}:${env.TAG!.replace(/\./g, '\\.')}$`), `${name}: image ${fn.image}`);
    t.equal((fn as unknown as { lang: string }).lang, 'node20-express', `${name}: our template`);
  }
});

t.test('labels: what the volume policies match, read-write only where the function writes', async (t) => {
  const matched = new Map<string, string>();
  for (const r of (policy.spec as any).rules) {
    const labels = r.match.any[0].resources.selector.matchLabels as Record<string, string>;
    for (const [k, v] of Object.entries(labels)) matched.set(v, k);
  }
  const binding = findObject('MutatingAdmissionPolicyBinding', 'bsky-parquet-volume');
  const expr = (binding.spec as any).matchResources.objectSelector.matchExpressions[0];
  for (const [name, fn] of fns) {
    const access = fn.labels?.['bsky.pipeline/parquet-access'];
    t.equal(access, RW.includes(name) ? 'rw' : 'ro', `${name}: parquet-access`);
    t.equal(matched.get(access!), 'bsky.pipeline/parquet-access', `${name}: a Kyverno rule matches ${access}`);
    t.equal(expr.key, 'bsky.pipeline/parquet-access');
    t.ok(expr.values.includes(access), `${name}: the MutatingAdmissionPolicyBinding selects ${access}`);
  }
});

t.test('constraints pin every function to the node of the Parquet volume, Redis and the daemon', async (t) => {
  const policyNode = (policy.spec as any).rules[0].mutate.patchStrategicMerge.spec.nodeSelector as Record<string, string>;
  const daemonNode = podSpecOf(findObject('Deployment', 'ingest-daemon', 'bsky'))!.nodeSelector;
  const redisNode = podSpecOf(findObject('StatefulSet', 'redis', 'bsky'))!.nodeSelector;
  t.same(daemonNode, policyNode);
  t.same(redisNode, policyNode);
  for (const [name, fn] of fns) {
    const sel = Object.fromEntries((fn.constraints ?? []).map((c) => c.split('=') as [string, string]));
    t.same(sel, policyNode, `${name}: constraints ${JSON.stringify(fn.constraints)}`);
  }
});

t.test("timeouts: every function's fit within the gateway's, the provider's and the queue's", async (t) => {
  const ms = (s: string) => parseDurationMs(s.replace(/(\d+)m(\d+)s/, (_m, a, b) => String(Number(a) * 60 + Number(b)) + 's'));
  const upstream = ms(values.gateway.upstreamTimeout);
  t.ok(upstream < ms(values.gateway.readTimeout) && upstream < ms(values.gateway.writeTimeout), 'upstreamTimeout < gateway read/write timeouts (chart rule)');
  t.ok(ms(values.faasnetes.readTimeout) >= upstream && ms(values.faasnetes.writeTimeout) >= upstream, 'faas-netes proxies as long');
  let longest = 0;
  for (const [name, fn] of fns) {
    for (const k of ['exec_timeout', 'read_timeout', 'write_timeout']) {
      t.ok(fn.env[k], `${name}: ${k} set`);
      t.ok(parseDurationMs(fn.env[k]!) <= upstream, `${name}: ${k}=${fn.env[k]} <= gateway upstreamTimeout ${values.gateway.upstreamTimeout}`);
    }
    longest = Math.max(longest, timeoutSeconds(fn.env) * 1000);
    if (fn.annotations?.topic === 'cron-function') t.ok(ms(values.queueWorker.ackWait) >= timeoutSeconds(fn.env) * 1000, `${name}: async run fits ackWait`);
  }
  t.ok(longest > 0 && longest <= upstream, `longest function timeout ${longest / 1000} s <= gateway upstreamTimeout ${upstream / 1000} s`);
});

t.test('scrape annotations and cron schedules', async (t) => {
  const flushLate = (YAML.parse(readFileSync(path.join(ROOT, 'k3s/monitoring/prometheus-rule.yaml'), 'utf8')).spec.groups as any[])
    .flatMap((g) => g.rules)
    .find((r: any) => r.alert === 'BskyFlushLate');
  const lateS = Number(/> (\d+)$/.exec(flushLate.expr)![1]);
  for (const [name, fn] of fns) {
    const a = fn.annotations ?? {};
    t.same([a['prometheus.io.scrape'], a['prometheus.io.port'], a['prometheus.io.path']], ['true', '8080', '/metrics'], `${name}: scraped on the template's port`);
    const cron = name === 'flush' || name === 'compact';
    t.equal(a.topic === 'cron-function', cron, `${name}: cron-connector topic only on flush/compact`);
    if (!cron) continue;
    const it = CronExpressionParser.parse(a.schedule!, { tz: 'UTC' });
    const first = it.next().getTime();
    const periodS = (it.next().getTime() - first) / 1000;
    t.ok(periodS > 0, `${name}: schedule ${a.schedule} every ${periodS} s`);
    if (name === 'flush') t.ok(lateS >= 3 * periodS, `BskyFlushLate (${lateS} s) allows 3 missed runs of flush (every ${periodS} s)`);
  }
});

t.test("stack.env.yml: the daemon's Redis and prefix, the policies' paths", async (t) => {
  const daemon = (findObject('ConfigMap', 'ingest-config', 'bsky') as K8sObject & { data: Record<string, string> }).data;
  const policyEnv = Object.fromEntries(
    ((policy.spec as any).rules[0].mutate.patchStrategicMerge.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]),
  );
  for (const [name, fn] of fns) {
    t.equal(fn.env.REDIS_PREFIX, daemon.REDIS_PREFIX, `${name}: REDIS_PREFIX`);
    t.equal(fn.env.REDIS_URL, daemon.REDIS_URL, `${name}: REDIS_URL`);
    t.equal(fn.env.DATA_DIR, policyEnv.DATA_DIR, `${name}: DATA_DIR`);
    t.equal(fn.env.PARQUET_DIR, policyEnv.PARQUET_DIR, `${name}: PARQUET_DIR`);
  }
});

t.test('plain-Kubernetes manifests: generated from stack.yml, same images, volume and schedules', async (t) => {
  const objs = plainDocs().map((d) => d.value as K8sObject);
  t.match(renderPlain(defaultEnv({ REGISTRY: 'registry.example.com/team', TAG: '1.2.3' })), 'image: registry.example.com/team/bsky-search:1.2.3', 'REGISTRY/TAG substituted like faas-cli');
  // Files on the volume keep one owner whichever path runs the functions: the image's uid 1000.
  t.equal(values.faasnetes.setNonRootUser, false, 'faas-netes keeps the image user (uid 1000)');
  t.match(readFileSync(path.join(ROOT, 'template/node20-express/Dockerfile'), 'utf8'), /^USER node$/m, 'the function image runs as node (uid 1000)');
  for (const [name, fn] of fns) {
    const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
    const c = podSpecOf(dep)!.containers[0];
    t.equal(c.image, fn.image, `${name}: same image as OpenFaaS`);
    t.equal(podSpecOf(dep)!.securityContext.runAsUser, 1000, `${name}: runs as uid 1000`);
    t.ok(objs.some((o) => o.kind === 'Service' && o.metadata.name === name), `${name}: Service`);
    const mount = c.volumeMounts.find((m: any) => m.mountPath === '/data');
    t.equal(mount.readOnly ?? false, !RW.includes(name), `${name}: Parquet volume ${RW.includes(name) ? 'read-write' : 'read-only'}`);
    t.equal(podSpecOf(dep)!.volumes.find((v: any) => v.name === mount.name).persistentVolumeClaim.claimName, findObject('PersistentVolumeClaim', 'parquet').metadata.name);
    t.equal(dep.spec && (dep.spec as any).template.metadata.labels['bsky.pipeline/parquet-access'], undefined, `${name}: no policy label (the volume is mounted directly)`);
    const cron = objs.find((o) => o.kind === 'CronJob' && o.metadata.name === `${name}-cron`);
    t.equal(cron && (cron.spec as any).schedule, fn.annotations?.topic === 'cron-function' ? fn.annotations.schedule : undefined, `${name}: CronJob schedule`);
    if (cron) t.match(podSpecOf(cron)!.containers[0].args.at(-1), `http://${name}.openfaas-fn.svc.cluster.local:8080/`);
  }
});

/** Kyverno's patchStrategicMerge as this policy uses it: maps merge, lists merge by `name`, `(name): "*"` matches every container. */
function kyvernoMerge(target: any, patch: any): any {
  if (Array.isArray(patch)) {
    const out: any[] = Array.isArray(target) ? target.map((x: unknown) => structuredClone(x)) : [];
    for (const p of patch) {
      if (p && typeof p === 'object' && '(name)' in p) {
        const { '(name)': pattern, ...rest } = p;
        for (let i = 0; i < out.length; i++) if (pattern === '*' || out[i].name === pattern) out[i] = kyvernoMerge(out[i], rest);
        continue;
      }
      const key = p && typeof p === 'object' ? (p.name ?? p.mountPath) : undefined;
      const i = key === undefined ? -1 : out.findIndex((x: any) => (x.name ?? x.mountPath) === key);
      if (i >= 0) out[i] = kyvernoMerge(out[i], p);
      else out.push(structuredClone(p));
    }
    return out;
  }
  if (patch && typeof patch === 'object') {
    const out = { ...(target ?? {}) };
    for (const [k, v] of Object.entries(patch)) out[k] = kyvernoMerge(out[k], v);
    return out;
  }
  return patch;
}

t.test('the Pods faas-netes creates for stack.yml, mutated by the Kyverno policy, are valid and get the volume', async (t) => {
  const { Pod } = await import('kubernetes-models/v1');
  const { kindFile, unknownFields } = await import('./lib/strict-fields.js');
  for (const [name, fn] of fns) {
    // Roughly what faas-netes builds from stack.yml (labels, constraints → nodeSelector, env, limits).
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${name}-6d5f-abcde`, namespace: 'openfaas-fn', labels: { faas_function: name, ...fn.labels }, annotations: fn.annotations },
      spec: {
        nodeSelector: Object.fromEntries((fn.constraints ?? []).map((c) => c.split('=') as [string, string])),
        containers: [
          {
            name,
            image: fn.image,
            ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
            env: Object.entries(fn.env).map(([k, v]) => ({ name: k, value: v })),
            resources: { requests: fn.requests, limits: fn.limits },
          },
        ],
      },
    };
    const access = fn.labels!['bsky.pipeline/parquet-access']!;
    const rule = (policy.spec as any).rules.find((r: any) => r.match.any[0].resources.selector.matchLabels['bsky.pipeline/parquet-access'] === access);
    const mutated = kyvernoMerge(pod, rule.mutate.patchStrategicMerge);
    t.doesNotThrow(() => new Pod(mutated).validate(), `${name}: mutated Pod validates`);
    t.same(unknownFields(mutated, kindFile('v1', 'Pod')), [], `${name}: no unknown fields`);
    const c = mutated.spec.containers[0];
    const ro = access === 'ro';
    t.same(c.volumeMounts, [{ name: 'bsky-data', mountPath: '/data', ...(ro ? { readOnly: true } : {}) }], `${name}: /data mounted ${ro ? 'read-only' : 'read-write'}`);
    t.same(mutated.spec.volumes, [{ name: 'bsky-data', persistentVolumeClaim: { claimName: 'parquet', ...(ro ? { readOnly: true } : {}) } }]);
    t.equal(c.env.filter((e: any) => e.name === 'PARQUET_DIR').length, 1, `${name}: PARQUET_DIR once (stack.env.yml and the policy agree)`);
    t.same(mutated.spec.nodeSelector, { 'bsky.pipeline/data-node': 'true' });
  }
});

/** JSON patch `add` (the only op the policy uses), with ~1/~0 unescaping. */
function jsonPatchAdd(doc: any, ops: Array<{ op: string; path: string; value: unknown }>): any {
  const out = structuredClone(doc);
  for (const { op, path: p, value } of ops) {
    if (op !== 'add') throw new Error(`unexpected op ${op}`);
    const parts = p.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let at = out;
    for (const k of parts.slice(0, -1)) {
      if (!(k in at)) throw new Error(`JSON patch add: ${p}: parent ${k} missing`);
      at = at[k];
    }
    at[parts.at(-1)!] = value;
  }
  return out;
}

t.test('MutatingAdmissionPolicy CEL, evaluated on the Pods of stack.yml: same result as the Kyverno policy', async (t) => {
  const { Pod } = await import('kubernetes-models/v1');
  const { kindFile, unknownFields } = await import('./lib/strict-fields.js');
  const { evalK8sCel } = await import('./lib/cel.js');
  const map = findObject('MutatingAdmissionPolicy', 'bsky-parquet-volume').spec as any;
  const apply = map.mutations.find((m: any) => m.patchType === 'ApplyConfiguration').applyConfiguration.expression;
  const patch = map.mutations.find((m: any) => m.patchType === 'JSONPatch').jsonPatch.expression;
  const matches = (object: unknown) => map.matchConditions.every((c: any) => evalK8sCel(c.expression, { object }) === true);

  t.equal(matches({ metadata: {}, spec: { containers: [] } }), false, 'a pod without labels is left alone');
  t.equal(matches({ metadata: { labels: { faas_function: 'x' } }, spec: { containers: [] } }), false, 'a pod without the label is left alone');
  t.equal(matches({ metadata: { labels: { 'bsky.pipeline/parquet-access': 'yes' } }, spec: { containers: [] } }), false, 'only rw/ro');

  for (const [name, fn] of fns) {
    for (const withSelector of [true, false]) {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${name}-abc`, namespace: 'openfaas-fn', labels: { faas_function: name, ...fn.labels } },
        spec: {
          ...(withSelector ? { nodeSelector: { 'kubernetes.io/os': 'linux' } } : {}),
          containers: [{ name, image: fn.image, env: [{ name: 'PARQUET_DIR', value: '/data/parquet' }] }],
        },
      };
      t.equal(matches(pod), true, `${name}: matched`);
      const readOnly = evalK8sCel(map.variables[0].expression, { object: pod });
      t.equal(readOnly, !RW.includes(name), `${name}: readOnly=${String(readOnly)}`);
      const cfg = evalK8sCel(apply, { object: pod, variables: { readOnly } });
      const mutated = jsonPatchAdd(kyvernoMerge(pod, cfg), evalK8sCel(patch, { object: pod }) as never);
      t.doesNotThrow(() => new Pod(mutated).validate(), `${name}: mutated Pod validates`);
      t.same(unknownFields(mutated, kindFile('v1', 'Pod')), [], `${name}: no unknown fields`);
      t.same(mutated.spec.volumes, [{ name: 'bsky-data', persistentVolumeClaim: { claimName: 'parquet', readOnly } }]);
      t.same(mutated.spec.containers[0].volumeMounts, [{ name: 'bsky-data', mountPath: '/data', readOnly }]);
      t.same(mutated.spec.containers[0].env, [
        { name: 'PARQUET_DIR', value: '/data/parquet' },
        { name: 'DATA_DIR', value: '/data' },
      ]);
      t.same(mutated.spec.nodeSelector, { ...(withSelector ? { 'kubernetes.io/os': 'linux' } : {}), 'bsky.pipeline/data-node': 'true' }, `${name}: pinned (nodeSelector ${withSelector ? 'extended' : 'created'})`);
    }
  }
});
