/**
 * The monitoring files are valid for the real tools and only read metrics that exist:
 * `promtool check rules` and `promtool test rules` on the alert rules, `promtool check config` on the
 * scrape configuration given to kube-prometheus-stack, every dashboard query parsed by promtool, and
 * every metric name in a panel or rule either declared in our code or exported by an exporter we deploy.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import YAML from 'yaml';
import { ROOT } from '../k3s/lib/manifests.js';
import { EXTERNAL_METRICS, codeMetricNames, dashboardQueries, promqlMetricNames, ruleGroups, substituteGrafanaVars } from './lib/metrics.js';

const run = promisify(execFile);

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}${String(err)}` };
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'bsky-monitoring-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const rulesFile = path.join(dir, 'bsky-rules.yml');
writeFileSync(rulesFile, YAML.stringify(ruleGroups()));

t.test('promtool check rules accepts the PrometheusRule groups', async (t) => {
  const total = ruleGroups().groups.reduce((n, g) => n + g.rules.length, 0);
  const r = await promtool('check', 'rules', rulesFile);
  t.equal(r.code, 0, r.out);
  t.match(r.out, `SUCCESS: ${total} rules found`);
});

t.test('promtool test rules: the alerts fire (and stay quiet) as k3s/monitoring/alerts.test.yml says', async (t) => {
  copyFileSync(path.join(ROOT, 'k3s/monitoring/alerts.test.yml'), path.join(dir, 'alerts.test.yml'));
  const r = await promtool('test', 'rules', path.join(dir, 'alerts.test.yml'));
  t.equal(r.code, 0, r.out);
  t.match(r.out, 'SUCCESS');
});

t.test('the alerts the issue asks for exist', async (t) => {
  const alerts = ruleGroups().groups.flatMap((g) => g.rules.map((r) => r.alert)).filter(Boolean);
  for (const a of ['BskyIngestStopped', 'BskyIngestLagging', 'BskyStreamNearCap', 'BskyFlushFailing', 'BskyFlushLate', 'BskyQueryErrorRate', 'BskyDiskFilling']) {
    t.ok(alerts.includes(a), a);
  }
  const lag = ruleGroups().groups.flatMap((g) => g.rules).find((r) => r.alert === 'BskyIngestLagging')!;
  t.match(lag.expr, /> 300$/, 'lag threshold is 5 minutes');
});

t.test('promtool check config accepts the scrape configuration of kube-prometheus-stack-values.yaml', async (t) => {
  const values = YAML.parse(readFileSync(path.join(ROOT, 'k3s/monitoring/kube-prometheus-stack-values.yaml'), 'utf8'));
  const scrape = values.prometheus.prometheusSpec.additionalScrapeConfigs as Array<{ job_name: string; kubernetes_sd_configs: Array<{ namespaces: { names: string[] } }> }>;
  t.ok(scrape.length >= 1);
  t.same(scrape[0]!.kubernetes_sd_configs[0]!.namespaces.names.sort(), ['bsky', 'openfaas', 'openfaas-fn'], 'daemon, gateway and functions namespaces');
  // Debian's Prometheus is built without Kubernetes service discovery, so its promtool rejects
  // `kubernetes_sd_configs`: check that block's shape here, and let promtool check everything else
  // (relabel rules, regexes, intervals) with a static target in its place. The relabel rules
  // themselves are exercised for real by prometheus-live.test.ts.
  for (const job of scrape) {
    t.same(
      job.kubernetes_sd_configs.map((sd) => Object.keys(sd).sort()),
      [['namespaces', 'role']],
      `${job.job_name}: kubernetes_sd_configs has role and namespaces only`,
    );
    t.equal((job.kubernetes_sd_configs[0] as unknown as { role: string }).role, 'pod');
  }
  const checked = scrape.map(({ kubernetes_sd_configs: _sd, ...rest }) => ({ ...rest, static_configs: [{ targets: ['127.0.0.1:9102'] }] }));
  const cfgFile = path.join(dir, 'prometheus.yml');
  writeFileSync(cfgFile, YAML.stringify({ global: { scrape_interval: '15s' }, rule_files: ['bsky-rules.yml'], scrape_configs: checked }));
  const r = await promtool('check', 'config', cfgFile);
  t.equal(r.code, 0, r.out);
  t.match(r.out, 'SUCCESS');
});

t.test('every dashboard query parses (promtool, as recording rules)', async (t) => {
  const queries = dashboardQueries();
  t.ok(queries.length >= 30, `${queries.length} queries`);
  const file = path.join(dir, 'dashboard-queries.yml');
  writeFileSync(
    file,
    YAML.stringify({ groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: substituteGrafanaVars(q.expr) })) }] }),
  );
  const r = await promtool('check', 'rules', file);
  t.equal(r.code, 0, r.out);
  t.match(r.out, `SUCCESS: ${queries.length} rules found`);
});

t.test('no panel or rule reads a metric that nothing exports', async (t) => {
  const known = await codeMetricNames();
  t.ok([...known.keys()].some((n) => n.startsWith('ingest_')), 'daemon metrics found in the code');
  const uses: Array<[string, string]> = [
    ...dashboardQueries().flatMap((q) => promqlMetricNames(q.expr).map((m): [string, string] => [m, `panel "${q.panel}" ${q.refId}`])),
    ...ruleGroups().groups.flatMap((g) => g.rules.flatMap((r) => promqlMetricNames(r.expr).map((m): [string, string] => [m, `rule ${r.alert ?? r.record}`]))),
  ];
  const unknown = uses.filter(([m]) => !known.has(m) && !(m in EXTERNAL_METRICS)).map(([m, where]) => `${m} (${where})`);
  t.same(unknown, [], 'every metric is declared in the code or comes from a deployed exporter');
  // The parser itself: functions, keywords, labels and strings are not metric names.
  t.same(promqlMetricNames('histogram_quantile(0.95, sum by (function, le) (rate(x_bucket{code=~"5..",a="b"}[$__rate_interval]))) / on(job) group_left y > 0'), ['x_bucket', 'y']);
});

t.test('the dashboard shows what the issue lists', async (t) => {
  const all = dashboardQueries();
  const metrics = new Set(all.flatMap((q) => promqlMetricNames(q.expr)));
  const want: Record<string, string> = {
    'ingest rate by collection': 'ingest_events_total',
    lag: 'ingest_lag_seconds',
    'stream length': 'ingest_stream_length',
    'Redis memory': 'redis_memory_used_bytes',
    drops: 'ingest_drops_total',
    gaps: 'ingest_gaps_total',
    'flush duration': 'bsky_flush_duration_seconds_bucket',
    'flush rows': 'bsky_flush_rows_total',
    quarantined: 'bsky_flush_quarantined_total',
    'query latency': 'bsky_api_query_duration_seconds_bucket',
    'query errors': 'bsky_api_requests_total',
    'Parquet bytes per day': 'bsky_compact_bytes_total',
  };
  for (const [what, metric] of Object.entries(want)) t.ok(metrics.has(metric), `${what}: ${metric}`);
  t.ok(all.some((q) => /sum by \(collection\)/.test(q.expr)), 'rate split by collection');
  t.ok(all.some((q) => /histogram_quantile\(0\.5,.*bsky_api/.test(q.expr)) && all.some((q) => /histogram_quantile\(0\.95,.*bsky_api/.test(q.expr)), 'p50 and p95');
});

t.test('the dashboard JSON is a well-formed Grafana dashboard', async (t) => {
  const dash = JSON.parse(readFileSync(path.join(ROOT, 'k3s/monitoring/dashboards/bsky-pipeline.json'), 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    templating: { list: Array<{ name: string; type: string; query: string }> };
    panels: Array<{ id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string }; targets?: Array<{ refId: string; expr: string }> }>;
  };
  t.equal(dash.uid, 'bsky-pipeline');
  t.ok(dash.schemaVersion >= 36);
  t.same(dash.templating.list.map((v) => [v.name, v.type, v.query]), [['datasource', 'datasource', 'prometheus']], 'a Prometheus datasource variable, no hard-coded datasource');
  const ids = dash.panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids unique');
  const cells = new Map<string, string>();
  const overlaps: string[] = [];
  for (const p of dash.panels) {
    const g = p.gridPos;
    t.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `${p.title}: fits the 24-column grid`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        const other = cells.get(`${x},${y}`);
        if (other) overlaps.push(`${p.title} / ${other} at ${x},${y}`);
        cells.set(`${x},${y}`, p.title);
      }
    }
    if (p.type === 'row') continue;
    t.equal(p.datasource?.uid, '${datasource}', `${p.title}: uses the datasource variable`);
    t.ok((p.targets ?? []).length > 0, `${p.title}: has queries`);
    const refs = (p.targets ?? []).map((tg) => tg.refId);
    t.equal(new Set(refs).size, refs.length, `${p.title}: refIds unique`);
  }
  t.same(overlaps, [], 'no two panels overlap');
});
