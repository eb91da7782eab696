/**
 * Reading the deployment files under k3s/: every YAML document, the Kubernetes objects among them,
 * and what the kustomizations assemble.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { defaultEnv, renderPlain } from '../../../k3s/plain/generate.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const K3S = path.join(ROOT, 'k3s');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Doc {
  /** Path relative to the repository root. */
  file: string;
  index: number;
  value: unknown;
}

/** Every .yaml/.yml file under k3s/, relative to the repository root, sorted. */
export function yamlFiles(dir = K3S): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(path.relative(ROOT, p));
  }
  return out.sort();
}

/** The documents of one multi-document YAML file; throws on any parse error or warning. */
export function parseDocs(file: string): Doc[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const out: Doc[] = [];
  docs.forEach((d, index) => {
    const problems = [...d.errors, ...d.warnings];
    if (problems.length) throw new Error(`${file} document ${index}: ${problems.map((e) => e.message).join('; ')}`);
    const value: unknown = d.toJS({ maxAliasCount: 0 });
    if (value !== null && value !== undefined) out.push({ file, index, value });
  });
  return out;
}

export function isK8sObject(v: unknown): v is K8sObject {
  return typeof v === 'object' && v !== null && typeof (v as K8sObject).apiVersion === 'string' && typeof (v as K8sObject).kind === 'string';
}

/** The plain-Kubernetes manifests as k3s/plain/generate.ts prints them (REGISTRY/TAG unset). */
export const PLAIN_FILE = 'k3s/plain/generate.ts';
export function plainDocs(): Doc[] {
  return YAML.parseAllDocuments(renderPlain(defaultEnv({})))
    .map((d, index) => ({ file: PLAIN_FILE, index, value: d.toJS() as unknown }))
    .filter((d) => d.value !== null);
}

/** Kubernetes objects in the k3s/ YAML files (Kustomization files excluded) and the generated ones. */
export function k8sObjects(): Array<Doc & { value: K8sObject }> {
  return [...yamlFiles().flatMap(parseDocs), ...plainDocs()].filter(
    (d): d is Doc & { value: K8sObject } => isK8sObject(d.value) && d.value.kind !== 'Kustomization',
  );
}

/** The one object of `kind` named `name` (and in `namespace` when given). */
export function findObject(kind: string, name: string, namespace?: string): K8sObject {
  const hits = k8sObjects().filter((d) => d.value.kind === kind && d.value.metadata.name === name && (namespace === undefined || d.value.metadata.namespace === namespace));
  if (hits.length !== 1) throw new Error(`expected one ${kind} ${namespace ? namespace + '/' : ''}${name}, found ${hits.length}`);
  return hits[0]!.value;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  configMapGenerator?: Array<{ name: string; namespace?: string; files?: string[]; options?: { labels?: Record<string, string>; annotations?: Record<string, string> } }>;
}

/**
 * What `kubectl apply -k DIR` would apply: the resources' objects (namespace overridden by the
 * kustomization's) and the generated ConfigMaps with their file contents. No name suffix hashes
 * (the kustomizations turn them off).
 */
export function kustomize(dir: string): K8sObject[] {
  const kfile = path.join(ROOT, dir, 'kustomization.yaml');
  const k = YAML.parse(readFileSync(kfile, 'utf8')) as Kustomization;
  const out: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    if (!existsSync(path.join(ROOT, p))) throw new Error(`${dir}/kustomization.yaml: resource ${r} does not exist`);
    const objs = existsSync(path.join(ROOT, p, 'kustomization.yaml')) ? kustomize(p) : parseDocs(p).map((d) => d.value as K8sObject);
    out.push(...objs);
  }
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of g.files ?? []) {
      const fp = path.join(ROOT, dir, f);
      if (!existsSync(fp)) throw new Error(`${dir}/kustomization.yaml: generator file ${f} does not exist`);
      data[path.basename(f)] = readFileSync(fp, 'utf8');
    }
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: g.name, namespace: g.namespace, labels: g.options?.labels, annotations: g.options?.annotations },
      data,
    });
  }
  if (k.namespace) for (const o of out) if (o.kind !== 'Namespace' && !CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  return out;
}

/** Kinds without a namespace. */
export const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterPolicy',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PersistentVolume',
]);

/** Pod templates of workload objects (Deployment, StatefulSet, CronJob, Job, Pod). */
export function podSpecOf(o: K8sObject): Record<string, any> | undefined {
  const spec = o.spec as Record<string, any> | undefined;
  switch (o.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return spec?.template?.spec;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template?.spec;
    case 'Pod':
      return spec;
    default:
      return undefined;
  }
}
