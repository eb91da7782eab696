/**
 * A real Prometheus (Debian's `prometheus` binary) scrapes the locally running pipeline — the local
 * gateway serving every function through the production template, and the ingest daemon it
 * supervises, fed the real 152-event fixture by the replay server — using the scrape job's own
 * relabel rules from kube-prometheus-stack-values.yaml (the Kubernetes pod labels and annotations are
 * given as static target labels, since there is no cluster here). After one flush, one compact and a
 * few queries, every dashboard query over these components returns series, the alert rules load and
 * evaluate, and BskyIngestLagging goes pending (the fixture's events are months old).
 *
 * Not covered here: panels on redis_exporter and node-exporter metrics (those exporters are not
 * installed on this machine); their names are checked against EXTERNAL_METRICS only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { readFileSync } from 'node:fs';
import { makeTestEnv, waitFor } from '../helpers/env.js';
import { ROOT } from '../k3s/lib/manifests.js';
import { EXTERNAL_METRICS, dashboardQueries, promqlMetricNames, ruleGroups } from './lib/metrics.js';
import { freePort, start } from './lib/procs.js';

/** Labelled counters that only get a series when something goes wrong (drops, gaps, quarantine, timeouts). */
const INCIDENT_ONLY = ['ingest_drops_total', 'ingest_gaps_total', 'ingest_gap_seconds_total', 'bsky_flush_quarantined_total', 'bsky_api_query_timeouts_total'];

interface PromResult {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

t.test('Prometheus scrapes the daemon and the gateway; the dashboard queries return series', async (t) => {
  const env = await makeTestEnv(t);
  const [gatewayPort, daemonPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const fixture = path.join(ROOT, 'tests/fixtures/jetstream-real-152.jsonl');

  // The pipeline: gateway (all functions) + ingest daemon + replay server, on this test's Redis prefix.
  const gw = start(process.execPath, ['--import', 'tsx', 'local-tools/gateway/main.ts', '--replay', fixture], {
    cwd: ROOT,
    env: { ...process.env, ...env.env, GATEWAY_PORT: String(gatewayPort), INGEST_HTTP_PORT: String(daemonPort), LOG_LEVEL: 'warn',
      // compact waits 2 x QUERY_TIMEOUT_MS before removing replaced files: keep that wait short here.
      QUERY_TIMEOUT_MS: '1000' },
  });
  t.teardown(() => gw.stop());
  const gwUrl = `http://127.0.0.1:${gatewayPort}`;
  await waitFor('gateway ready', () => gw.output().includes('gateway ready:') || (gw.child.exitCode !== null && Promise.reject(new Error(gw.output()))), 60_000, 100);
  await waitFor('daemon wrote the 152 fixture events', async () => (await env.redis.xlen(`${env.prefix}events`)) === 152, 30_000, 100);

  // Prometheus with the production scrape job (relabel rules as in the Helm values) and alert rules.
  const values = YAML.parse(readFileSync(path.join(ROOT, 'k3s/monitoring/kube-prometheus-stack-values.yaml'), 'utf8'));
  const job = values.prometheus.prometheusSpec.additionalScrapeConfigs[0];
  const pod = (ns: string, name: string, port: number, labels: Record<string, string>, scrape = 'true') => ({
    // __address__ is the pod IP with the container port; the relabel rules swap in the annotated port.
    targets: ['127.0.0.1:1'],
    labels: {
      __meta_kubernetes_namespace: ns,
      __meta_kubernetes_pod_name: name,
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: scrape,
      __meta_kubernetes_pod_annotation_prometheus_io_port: String(port),
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/metrics',
      ...labels,
    },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bsky-prom-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'bsky-rules.yml'), YAML.stringify(ruleGroups()));
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    YAML.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ['bsky-rules.yml'],
      scrape_configs: [
        {
          job_name: job.job_name,
          scrape_interval: '1s',
          relabel_configs: job.relabel_configs,
          static_configs: [
            pod('bsky', 'ingest-daemon-7d9f', daemonPort, { __meta_kubernetes_pod_label_app_kubernetes_io_name: 'ingest-daemon' }),
            // The local gateway stands in for the function pods: one process, every function's metrics.
            pod('openfaas-fn', 'functions-local', gatewayPort, { __meta_kubernetes_pod_label_faas_function: 'functions-local' }),
            // Not annotated for scraping: the keep rule must drop it.
            pod('bsky', 'redis-0', 1, { __meta_kubernetes_pod_label_app_kubernetes_io_name: 'redis' }, 'false'),
          ],
        },
      ],
    }),
  );
  const prom = start('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--log.level=warn',
  ], { cwd: dir, env: process.env });
  t.teardown(() => prom.stop());
  const promUrl = `http://127.0.0.1:${promPort}`;
  await waitFor('prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000, 100);
  const query = async (q: string) => {
    const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as PromResult;
    if (r.status !== 'success') throw new Error(`query failed: ${q}: ${JSON.stringify(r)}`);
    return r.data.result;
  };

  // Traffic: a flush, a compact, searches (one invalid, for a 4xx series).
  const flush = await fetch(`${gwUrl}/function/flush`, { method: 'POST' });
  t.equal(flush.status, 200, 'flush ran');
  const flushed = (await flush.json()) as { events_read: number };
  t.equal(flushed.events_read, 152);
  t.equal((await fetch(`${gwUrl}/function/compact`, { method: 'POST' })).status, 200, 'compact ran');
  t.equal((await fetch(`${gwUrl}/function/search?text=the&limit=3`)).status, 200);
  t.equal((await fetch(`${gwUrl}/function/search?limit=abc`)).status, 400);
  t.equal((await fetch(`${gwUrl}/function/counts?text=the`)).status, 200);

  // Targets: the relabel rules turned the pod annotations into the right addresses and labels.
  await waitFor('both targets up', async () => (await query('up == 1')).length === 2, 30_000, 200);
  const up = (await query('up')).map((r) => `${r.metric.namespace}/${r.metric.app}@${r.metric.instance}`).sort();
  t.same(up, [`bsky/ingest-daemon@127.0.0.1:${daemonPort}`, `openfaas-fn/functions-local@127.0.0.1:${gatewayPort}`]);
  const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { droppedTargets: unknown[] } };
  t.equal(targets.data.droppedTargets.length, 1, 'the pod without prometheus.io.scrape=true is dropped');

  // Every dashboard query on these components returns series (external exporters' panels aside).
  const queries = dashboardQueries();
  const live = queries.filter((q) => promqlMetricNames(q.expr).every((m) => !(m in EXTERNAL_METRICS) && !INCIDENT_ONLY.includes(m)));
  const skipped = queries.filter((q) => !live.includes(q));
  t.ok(live.length >= 25, `${live.length} dashboard queries checked live (${skipped.length} on exporters or incident-only metrics)`);
  const asLive = (expr: string) => expr.replace(/\$__rate_interval/g, '1m');
  const empty = async () => {
    const out: string[] = [];
    for (const q of live) if ((await query(asLive(q.expr))).length === 0) out.push(`${q.panel} ${q.refId}: ${q.expr}`);
    return out;
  };
  let missing: string[] = [];
  await waitFor(
    'every live dashboard query to return series',
    async () => {
      missing = await empty();
      return missing.length === 0;
    },
    30_000,
    500,
  ).catch(() => undefined);
  t.same(missing, [], 'dashboard queries with no series');

  // Incident-only metrics: no samples in a healthy run, but the processes export them (metadata).
  const meta = (await (await fetch(`${promUrl}/api/v1/metadata`)).json()) as { data: Record<string, unknown> };
  for (const m of INCIDENT_ONLY) t.ok(meta.data[m], `${m} is exported (HELP/TYPE scraped)`);

  // The alert rules load and evaluate against real series; the months-old fixture makes the lag alert pend.
  await waitFor('rules evaluated', async () => {
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ health: string }> }> } };
    return rules.data.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok');
  }, 20_000, 250);
  const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> } };
  const all = rules.data.groups.flatMap((g) => g.rules);
  t.equal(all.length, ruleGroups().groups.reduce((n, g) => n + g.rules.length, 0), 'every rule loaded');
  t.same(all.filter((r) => r.health !== 'ok').map((r) => r.name), [], 'every rule evaluates without error');
  await waitFor('BskyIngestLagging pending', async () => {
    const alerts = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
    return alerts.data.alerts.some((a) => a.labels.alertname === 'BskyIngestLagging' && a.state === 'pending');
  }, 20_000, 250);
  t.pass('BskyIngestLagging is pending on the real lag gauge');
  const lag = await query('max(ingest_lag_seconds)');
  t.ok(Number(lag[0]!.value[1]) > 300, 'lag gauge above 5 minutes');

  t.equal(await prom.stop(), 0, 'prometheus exits cleanly');
  t.equal(await gw.stop(), 0, 'gateway (and its daemon) exit 0 on SIGTERM');
});
