/**
 * Every file under k3s/ parses; every Kubernetes object validates against the API schema
 * (kubernetes-models) with no unknown field; custom resources (Kyverno, Prometheus operator,
 * MutatingAdmissionPolicy, newer than the models package) have their required fields; workloads follow
 * the house rules (resources, non-root, pinned images); kustomizations assemble; no secret value is
 * committed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import {
  CLUSTER_SCOPED,
  K3S,
  ROOT,
  isK8sObject,
  k8sObjects,
  kustomize,
  parseDocs,
  podSpecOf,
  yamlFiles,
  type K8sObject,
} from './lib/manifests.js';
import { kindFile, unknownFields } from './lib/strict-fields.js';

const objects = k8sObjects();

t.test('every YAML file under k3s/ parses (multi-document, no duplicate keys)', async (t) => {
  const files = yamlFiles();
  t.ok(files.length >= 15, `found ${files.length} YAML files`);
  for (const f of files) t.doesNotThrow(() => parseDocs(f), f);
});

/** Custom resources and APIs newer than kubernetes-models: the fields the API server requires. */
function checkCustom(o: K8sObject): string[] {
  const spec = o.spec as Record<string, any> | undefined;
  const errs: string[] = [];
  const need = (cond: unknown, what: string) => {
    if (!cond) errs.push(what);
  };
  switch (`${o.apiVersion}/${o.kind}`) {
    case 'kyverno.io/v1/ClusterPolicy':
      need(Array.isArray(spec?.rules) && spec.rules.length > 0, 'spec.rules');
      for (const [i, r] of (spec?.rules ?? []).entries()) {
        need(typeof r.name === 'string' && r.name.length <= 63, `spec.rules[${i}].name`);
        need(r.match?.any || r.match?.all || r.match?.resources, `spec.rules[${i}].match`);
        need(r.mutate || r.validate || r.generate || r.verifyImages, `spec.rules[${i}] has an action`);
        for (const m of r.match?.any ?? r.match?.all ?? []) need(Array.isArray(m.resources?.kinds), `spec.rules[${i}].match resources.kinds`);
      }
      break;
    case 'monitoring.coreos.com/v1/PrometheusRule':
      need(Array.isArray(spec?.groups) && spec.groups.length > 0, 'spec.groups');
      for (const g of spec?.groups ?? []) {
        need(typeof g.name === 'string', 'group name');
        for (const r of g.rules ?? []) need((r.alert || r.record) && typeof r.expr === 'string', `rule ${r.alert ?? r.record} has alert|record and expr`);
      }
      break;
    case 'admissionregistration.k8s.io/v1/MutatingAdmissionPolicy':
    case 'admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy':
      need(Array.isArray(spec?.matchConstraints?.resourceRules) && spec.matchConstraints.resourceRules.length > 0, 'spec.matchConstraints.resourceRules');
      need(Array.isArray(spec?.mutations) && spec.mutations.length > 0, 'spec.mutations');
      for (const m of spec?.mutations ?? []) {
        need(['ApplyConfiguration', 'JSONPatch'].includes(m.patchType), 'mutations[].patchType');
        const body = m.patchType === 'ApplyConfiguration' ? m.applyConfiguration : m.jsonPatch;
        need(typeof body?.expression === 'string' && body.expression.length > 0, `mutations[].${m.patchType} expression`);
      }
      need(['Never', 'IfNeeded', undefined].includes(spec?.reinvocationPolicy), 'spec.reinvocationPolicy');
      need(['Fail', 'Ignore', undefined].includes(spec?.failurePolicy), 'spec.failurePolicy');
      break;
    case 'admissionregistration.k8s.io/v1/MutatingAdmissionPolicyBinding':
    case 'admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicyBinding':
      need(typeof spec?.policyName === 'string', 'spec.policyName');
      break;
    case 'traefik.io/v1alpha1/Middleware':
      need(spec && Object.keys(spec).length === 1, 'spec has exactly one middleware');
      need(spec?.stripPrefixRegex ? Array.isArray(spec.stripPrefixRegex.regex) : true, 'stripPrefixRegex.regex is a list');
      break;
    default:
      errs.push(`unknown kind ${o.apiVersion} ${o.kind}: add it to the test`);
  }
  return errs;
}

t.test('every Kubernetes object validates against its schema, with no unknown field', async (t) => {
  t.ok(objects.length >= 35, `found ${objects.length} objects`);
  for (const { file, index, value: o } of objects) {
    const where = `${file}#${index} ${o.kind} ${o.metadata?.name}`;
    t.match(o.metadata?.name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${where}: metadata.name`);
    const f = kindFile(o.apiVersion, o.kind);
    if (!existsSync(f)) {
      t.same(checkCustom(o), [], `${where}: required fields of a custom resource`);
      continue;
    }
    const mod = (await import(`kubernetes-models/${o.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = mod[o.kind];
    if (!Model) {
      t.fail(`${where}: kubernetes-models has no ${o.kind} in ${o.apiVersion}`);
      continue;
    }
    t.doesNotThrow(() => new Model(o).validate(), `${where}: schema`);
    t.same(unknownFields(o, f), [], `${where}: no unknown fields`);
  }
});

t.test('namespaced objects name a namespace the manifests create', async (t) => {
  const namespaces = new Set(objects.filter((d) => d.value.kind === 'Namespace').map((d) => d.value.metadata.name));
  t.same([...namespaces].sort(), ['bsky', 'monitoring', 'openfaas', 'openfaas-fn']);
  for (const { file, value: o } of objects) {
    if (CLUSTER_SCOPED.has(o.kind)) {
      t.equal(o.metadata.namespace, undefined, `${file} ${o.kind} ${o.metadata.name} is cluster-scoped`);
      continue;
    }
    // PrometheusRule/ConfigMaps generated under k3s/monitoring get their namespace from the kustomization.
    const ns = o.metadata.namespace ?? (file.startsWith('k3s/monitoring/') ? 'monitoring' : undefined);
    t.ok(ns && namespaces.has(ns), `${file} ${o.kind} ${o.metadata.name} in namespace ${ns}`);
  }
});

t.test('workloads: resources, non-root, read-only root, pinned images, probes on servers', async (t) => {
  const workloads = objects.filter((d) => podSpecOf(d.value));
  t.ok(workloads.length >= 12, `${workloads.length} workloads`);
  for (const { file, value: o } of workloads) {
    const pod = podSpecOf(o)!;
    const where = `${file} ${o.kind} ${o.metadata.name}`;
    t.equal(pod.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`);
    t.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`);
    for (const c of pod.containers as Array<Record<string, any>>) {
      const cw = `${where} container ${c.name}`;
      t.match(c.image, /^[\w.\-/]+:[\w.\-]+$/, `${cw}: image has a tag`);
      t.notMatch(c.image, /:latest$/, `${cw}: image is not :latest`);
      t.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${cw}: cpu and memory requests`);
      t.ok(c.resources?.limits?.memory, `${cw}: memory limit`);
      t.equal(c.securityContext?.allowPrivilegeEscalation, false, `${cw}: no privilege escalation`);
      t.same(c.securityContext?.capabilities?.drop, ['ALL'], `${cw}: drops all capabilities`);
      t.equal(c.securityContext?.readOnlyRootFilesystem, true, `${cw}: read-only root filesystem`);
      if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
        t.ok(c.readinessProbe && c.livenessProbe, `${cw}: readiness and liveness probes`);
      }
    }
    const mounts = new Set((pod.volumes ?? []).map((v: { name: string }) => v.name));
    const claimTemplates = new Set(((o.spec as any)?.volumeClaimTemplates ?? []).map((v: any) => v.metadata.name));
    for (const c of pod.containers) {
      for (const m of c.volumeMounts ?? []) t.ok(mounts.has(m.name) || claimTemplates.has(m.name), `${where}: volumeMount ${m.name} has a volume`);
    }
  }
});

t.test('kustomizations assemble: resources and generator files exist, every manifest is applied by one', async (t) => {
  const dirs = yamlFiles()
    .filter((f) => path.basename(f) === 'kustomization.yaml')
    .map((f) => path.dirname(f));
  t.ok(dirs.length >= 3, `kustomizations: ${dirs.join(', ')}`);
  const applied = new Set<string>();
  for (const dir of dirs) {
    const objs = kustomize(dir);
    t.ok(objs.length > 0, `${dir}: ${objs.length} objects`);
    for (const o of objs) applied.add(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  }
  for (const { file, value: o } of objects) {
    // The two volume policies are alternatives, applied by file; the plain path is piped from its generator.
    if (file.startsWith('k3s/policy/') || file.startsWith('k3s/plain/')) continue;
    const ns = o.metadata.namespace ?? (file.startsWith('k3s/monitoring/') ? 'monitoring' : '');
    t.ok(applied.has(`${o.kind}/${CLUSTER_SCOPED.has(o.kind) ? '' : ns}/${o.metadata.name}`), `${file} ${o.kind} ${o.metadata.name} is in a kustomization`);
  }
  const dash = kustomize('k3s/monitoring').find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'bsky-pipeline-dashboard');
  t.equal(dash?.metadata.labels?.grafana_dashboard, '1', 'dashboard ConfigMap carries the Grafana sidecar label');
  t.doesNotThrow(() => JSON.parse(Object.values((dash?.data ?? {}) as Record<string, string>)[0] ?? ''), 'dashboard JSON parses');
});

t.test('secrets by reference only: no Secret object committed, an .env.example for every Secret used', async (t) => {
  t.same(objects.filter((d) => d.value.kind === 'Secret').map((d) => d.file), [], 'no Secret manifests');
  const referenced = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const r = v as Record<string, any>;
    if (r.secretRef?.name) referenced.add(r.secretRef.name);
    if (r.secretKeyRef?.name) referenced.add(r.secretKeyRef.name);
    if (typeof r.secret?.secretName === 'string') referenced.add(r.secret.secretName);
    Object.values(r).forEach(walk);
  };
  objects.forEach((d) => walk(d.value));
  const values = parseDocs('k3s/monitoring/kube-prometheus-stack-values.yaml')[0]!.value as any;
  referenced.add(values.grafana.admin.existingSecret);
  // The OpenFaaS chart reads basic-auth (generateBasicAuth: false).
  const of = parseDocs('k3s/openfaas/values.yaml')[0]!.value as any;
  t.equal(of.generateBasicAuth, false, 'the OpenFaaS chart does not generate the admin password');
  referenced.add('basic-auth');
  const examples: Record<string, string> = {
    'backup-restic': 'backup-restic.env.example',
    'backup-ssh': 'README',
    'grafana-admin': 'grafana-admin.env.example',
    'basic-auth': 'openfaas-basic-auth.env.example',
    'ingest-secrets': 'ingest-secrets.env.example',
  };
  for (const name of referenced) {
    t.ok(examples[name], `secret ${name} is documented`);
    const ex = examples[name];
    if (ex && ex !== 'README') {
      const text = readFileSync(path.join(K3S, 'secrets', ex), 'utf8');
      t.match(text, new RegExp(`create secret generic ${name} `), `${ex} shows the kubectl command for ${name}`);
      for (const line of text.split('\n').filter((l) => /^[A-Za-z_-]+=/.test(l))) {
        const value = line.slice(line.indexOf('=') + 1);
        t.ok(/REPLACE_ME|^admin$|^s3:https:\/\/fsn1\.your-objectstorage\.com\//.test(value), `${ex}: ${line.split('=')[0]} holds a placeholder, not a secret`);
      }
    }
  }
  const ignore = readFileSync(path.join(K3S, 'secrets', '.gitignore'), 'utf8');
  t.match(ignore, /^\*\.env$/m, 'filled-in .env files are git-ignored');
  t.ok(isK8sObject(objects[0]?.value), 'objects loaded');
  t.ok(existsSync(path.join(ROOT, 'k3s/README.md')), 'runbook exists');
});
