/**
 * The plain-Kubernetes way to run the functions, without the OpenFaaS control plane (OpenFaaS CE is
 * licensed for personal use and a 60-day commercial trial): one Deployment + Service per function of
 * stack.yml, running the very same images (the node20-express template serves the handler on 8080),
 * the Parquet volume mounted directly (no admission policy needed), an Ingress with the gateway's
 * /function/<name> URLs, and a CronJob per cron function that POSTs to it like the cron-connector.
 *
 *   REGISTRY=ghcr.io/your-org TAG=0.1.0 npx tsx k3s/plain/generate.ts | kubectl apply -f -
 *
 * Generated at deploy time from stack.yml + stack.env.yml, as `faas-cli deploy` reads them, so the two
 * paths cannot drift. tests/k3s validate the output (schemas, no unknown fields, same images, labels,
 * schedules and volume as the OpenFaaS path).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { substituteEnv } from '../../local-tools/gateway/stack.js';
import { parseDurationMs } from '../../shared/config/sections/runtime.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const NAMESPACE = 'openfaas-fn';
const PVC = 'parquet';
const PORT = 8080;

interface StackFn {
  image: string;
  environment?: Record<string, string>;
  environment_file?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  requests?: { memory?: string; cpu?: string };
  limits?: { memory?: string; cpu?: string };
  constraints?: string[];
}

/** stack.yml as faas-cli reads it: ${VAR:-default} substituted, environment files merged. */
export function readStack(env: Record<string, string | undefined>): Array<[string, StackFn & { env: Record<string, string> }]> {
  const stack = YAML.parse(substituteEnv(readFileSync(path.join(ROOT, 'stack.yml'), 'utf8'), env)) as { functions: Record<string, StackFn> };
  return Object.entries(stack.functions).map(([name, fn]) => {
    const merged: Record<string, string> = {};
    for (const f of fn.environment_file ?? []) Object.assign(merged, (YAML.parse(readFileSync(path.join(ROOT, f), 'utf8')) as { environment: Record<string, string> }).environment);
    Object.assign(merged, fn.environment ?? {});
    return [name, { ...fn, env: Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, String(v)])) }];
  });
}

function nodeSelector(constraints: string[] = []): Record<string, string> {
  return Object.fromEntries(constraints.map((c) => c.split('=').map((s) => s.trim()) as [string, string]));
}

/** The longest of a function's timeouts, in seconds (0 when none is set). */
export function timeoutSeconds(env: Record<string, string>): number {
  return Math.max(0, ...['exec_timeout', 'write_timeout'].filter((k) => env[k]).map((k) => parseDurationMs(env[k]!) / 1000));
}

export function renderPlain(env: Record<string, string | undefined>): string {
  const docs: unknown[] = [];
  const fns = readStack(env);
  for (const [name, fn] of fns) {
    const access = fn.labels?.['bsky.pipeline/parquet-access'];
    const readOnly = access !== 'rw';
    const min = Number(fn.labels?.['com.openfaas.scale.min'] ?? '1');
    const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'bsky-pipeline', faas_function: name };
    const annotations = Object.fromEntries(Object.entries(fn.annotations ?? {}).filter(([k]) => k.startsWith('prometheus.io')));
    // The template drains in-flight requests for SHUTDOWN_GRACE (default write_timeout) after SIGTERM.
    const drainS = fn.env.SHUTDOWN_GRACE ? parseDurationMs(fn.env.SHUTDOWN_GRACE) / 1000 : timeoutSeconds(fn.env);
    const graceS = Math.max(30, Math.ceil(drainS) + 5);
    docs.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: NAMESPACE, labels, annotations: { 'bsky.pipeline/parquet-access': access ?? 'none' } },
      spec: {
        replicas: min,
        // Cron functions (one replica): never two flushes side by side during an upgrade.
        strategy: min === 1 && fn.annotations?.topic?.includes('cron-function') ? { type: 'Recreate' } : { type: 'RollingUpdate' },
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
        template: {
          metadata: { labels, annotations },
          spec: {
            nodeSelector: nodeSelector(fn.constraints),
            terminationGracePeriodSeconds: graceS,
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name,
                image: fn.image,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ name: 'http', containerPort: PORT }],
                env: Object.entries(fn.env)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([k, v]) => ({ name: k, value: v })),
                readinessProbe: { httpGet: { path: '/_/health', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2 },
                livenessProbe: { httpGet: { path: '/_/health', port: 'http' }, initialDelaySeconds: 10, periodSeconds: 15, timeoutSeconds: 3 },
                resources: { requests: fn.requests ?? {}, limits: { memory: fn.limits?.memory } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: 'bsky-data', mountPath: '/data', ...(readOnly ? { readOnly: true } : {}) },
                  { name: 'tmp', mountPath: '/tmp' },
                  // DuckDB spills to .tmp in the working directory when a query exceeds its memory limit.
                  { name: 'duckdb-tmp', mountPath: '/home/app/.tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'bsky-data', persistentVolumeClaim: { claimName: PVC, ...(readOnly ? { readOnly: true } : {}) } },
              { name: 'tmp', emptyDir: {} },
              { name: 'duckdb-tmp', emptyDir: {} },
            ],
          },
        },
      },
    });
    docs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NAMESPACE, labels },
      spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ name: 'http', port: PORT, targetPort: 'http' }] },
    });
    const schedule = fn.annotations?.topic?.includes('cron-function') ? fn.annotations.schedule : undefined;
    if (schedule) {
      const maxTime = Math.ceil(timeoutSeconds(fn.env)) || 900;
      docs.push({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: `${name}-cron`, namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': `${name}-cron`, 'app.kubernetes.io/part-of': 'bsky-pipeline' } },
        spec: {
          schedule,
          timeZone: 'Etc/UTC',
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds: 120,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 5,
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              activeDeadlineSeconds: maxTime + 60,
              template: {
                metadata: { labels: { 'app.kubernetes.io/name': `${name}-cron` } },
                spec: {
                  restartPolicy: 'Never',
                  automountServiceAccountToken: false,
                  securityContext: { runAsNonRoot: true, runAsUser: 100, runAsGroup: 101, seccompProfile: { type: 'RuntimeDefault' } },
                  containers: [
                    {
                      name: 'invoke',
                      image: 'curlimages/curl:8.11.1',
                      // What the cron-connector does: POST to the function and report its status.
                      args: ['--fail-with-body', '--silent', '--show-error', '--max-time', String(maxTime), '-X', 'POST', '-H', 'content-type: text/plain', '--data', '', `http://${name}.${NAMESPACE}.svc.cluster.local:${PORT}/`],
                      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
                      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                    },
                  ],
                },
              },
            },
          },
        },
      });
    }
  }
  // The gateway's URL shape (/function/<name>/…) on k3s's Traefik, prefix stripped like the gateway does.
  docs.push({
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'Middleware',
    metadata: { name: 'strip-function-prefix', namespace: NAMESPACE },
    spec: { stripPrefixRegex: { regex: ['^/function/[a-z0-9-]+'] } },
  });
  docs.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'functions',
      namespace: NAMESPACE,
      annotations: {
        'traefik.ingress.kubernetes.io/router.middlewares': `${NAMESPACE}-strip-function-prefix@kubernetescrd`,
        'traefik.ingress.kubernetes.io/router.entrypoints': 'web,websecure',
      },
    },
    spec: {
      ingressClassName: 'traefik',
      rules: [
        {
          http: {
            paths: fns
              .filter(([, fn]) => !fn.annotations?.topic?.includes('cron-function'))
              .map(([name]) => ({ path: `/function/${name}`, pathType: 'Prefix', backend: { service: { name, port: { name: 'http' } } } })),
          },
        },
      ],
    },
  });
  const header = [
    '# GENERATED by k3s/plain/generate.ts from stack.yml and stack.env.yml: the functions without',
    '# OpenFaaS (k3s/README.md "Without OpenFaaS").',
    '',
  ].join('\n');
  return header + docs.map((d) => YAML.stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/** The environment for substitution: TAG defaults to package.json's version (never :latest). */
export function defaultEnv(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return { ...env, TAG: env.TAG || version };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(renderPlain(defaultEnv()));
}
