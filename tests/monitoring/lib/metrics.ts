/**
 * What the monitoring files ask for and what the code exports: the metric names the code declares
 * (prom-client declarations in shared/, functions/, ingest-daemon/, template/, local-tools/, plus
 * prom-client's default process metrics), the metrics a PromQL expression reads, the dashboard's and
 * the alert rules' expressions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import YAML from 'yaml';
import { ROOT } from '../../k3s/lib/manifests.js';

export const DASHBOARD = 'k3s/monitoring/dashboards/bsky-pipeline.json';
export const RULES = 'k3s/monitoring/prometheus-rule.yaml';

/**
 * Metrics that come from exporters we deploy but do not write, with where they come from. A panel or
 * rule may use these; any other name must be declared in our code.
 */
export const EXTERNAL_METRICS: Record<string, string> = {
  up: 'Prometheus (per scrape target)',
  redis_memory_used_bytes: 'redis_exporter sidecar (k3s/base/redis.yaml)',
  redis_memory_max_bytes: 'redis_exporter sidecar',
  redis_stream_length: 'redis_exporter, REDIS_EXPORTER_CHECK_SINGLE_STREAMS',
  redis_stream_group_messages_pending: 'redis_exporter, REDIS_EXPORTER_CHECK_SINGLE_STREAMS',
  redis_stream_group_lag: 'redis_exporter >= 1.50 with Redis >= 7',
  node_filesystem_avail_bytes: 'node-exporter (kube-prometheus-stack)',
  node_filesystem_size_bytes: 'node-exporter (kube-prometheus-stack)',
};

const CODE_DIRS = ['shared', 'functions', 'ingest-daemon', 'template', 'local-tools'];

function tsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [p] : [];
  });
}

/** Every series name the code can expose (histograms with _bucket/_sum/_count), with its file. */
export async function codeMetricNames(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const decl = /(?:\b(counter|gauge|histogram|summary)|new\s+(?:client\.)?(Counter|Gauge|Histogram|Summary))\s*(?:<[^>]*>)?\(\s*\{\s*name:\s*['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]/g;
  for (const dir of CODE_DIRS) {
    for (const file of tsFiles(path.join(ROOT, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(decl)) {
        const type = (m[1] ?? m[2]!).toLowerCase();
        const name = m[3]!;
        const rel = path.relative(ROOT, file);
        out.set(name, rel);
        if (type === 'histogram' || type === 'summary') {
          for (const s of ['_sum', '_count']) out.set(name + s, rel);
          if (type === 'histogram') out.set(name + '_bucket', rel);
        }
      }
    }
  }
  // shared/metrics.ts collectProcessMetrics(): prom-client's defaults.
  const reg = new client.Registry();
  client.collectDefaultMetrics({ register: reg });
  for (const m of await reg.getMetricsAsJSON()) {
    out.set(m.name, 'prom-client default metrics');
    if (m.type === ('histogram' as unknown)) for (const s of ['_bucket', '_sum', '_count']) out.set(m.name + s, 'prom-client default metrics');
  }
  return out;
}

const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'avg', 'avg_over_time', 'bottomk', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'count',
  'count_over_time', 'count_values', 'day_of_month', 'day_of_week', 'delta', 'deriv', 'exp', 'floor', 'group', 'histogram_quantile', 'holt_winters',
  'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log2', 'log10', 'max', 'max_over_time', 'min',
  'min_over_time', 'minute', 'month', 'predict_linear', 'quantile', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort',
  'sort_desc', 'sqrt', 'stddev', 'stddev_over_time', 'stdvar', 'sum', 'sum_over_time', 'time', 'timestamp', 'topk', 'vector', 'year',
]);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** Grafana's variables replaced by values Prometheus accepts. */
export function substituteGrafanaVars(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
    .replace(/\$\{?datasource\}?/g, '')
    .replace(/\$\{?(\w+)\}?/g, '.*');
}

/** Metric names an expression reads (not functions, keywords, label names or string contents). */
export function promqlMetricNames(expr: string): string[] {
  const s = substituteGrafanaVars(expr)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // grouping labels
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = s.slice(m.index! + word.length).trimStart();
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (FUNCTIONS.has(word) && after.startsWith('(')) continue;
    // Duration units glued to numbers (3 * 86400, 5m) never reach here: numbers are not words.
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

/** Every Prometheus query of the dashboard. */
export function dashboardQueries(): PanelQuery[] {
  const dash = JSON.parse(readFileSync(path.join(ROOT, DASHBOARD), 'utf8')) as { panels: Array<{ title: string; type: string; panels?: unknown[]; targets?: Array<{ refId: string; expr: string }> }> };
  const flat = dash.panels.flatMap((p) => [p, ...((p.panels ?? []) as typeof dash.panels)]);
  return flat.flatMap((p) => (p.targets ?? []).map((tg) => ({ panel: p.title, refId: tg.refId, expr: tg.expr })));
}

/** The rule groups of the PrometheusRule, as a plain Prometheus rule file object. */
export function ruleGroups(): { groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }> } {
  const doc = YAML.parse(readFileSync(path.join(ROOT, RULES), 'utf8'));
  return { groups: doc.spec.groups };
}
