import client from 'prom-client';

/**
 * The process's Prometheus registry. Metrics are declared with the helpers below, which return the
 * already-registered metric when a module is loaded twice (tests, the local gateway running every
 * function in one process), instead of throwing on the duplicate name.
 */
export const registry = new client.Registry();
let defaultsOn = false;

/** Process metrics (RSS, CPU, event-loop lag) once per process. */
export function collectProcessMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  client.collectDefaultMetrics({ register: registry });
}

function existing<T>(name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export function counter<L extends string>(cfg: client.CounterConfiguration<L>): client.Counter<L> {
  return existing<client.Counter<L>>(cfg.name) ?? new client.Counter({ ...cfg, registers: [registry] });
}

export function gauge<L extends string>(cfg: client.GaugeConfiguration<L>): client.Gauge<L> {
  return existing<client.Gauge<L>>(cfg.name) ?? new client.Gauge({ ...cfg, registers: [registry] });
}

export function histogram<L extends string>(cfg: client.HistogramConfiguration<L>): client.Histogram<L> {
  return existing<client.Histogram<L>>(cfg.name) ?? new client.Histogram({ ...cfg, registers: [registry] });
}

/** The registry in Prometheus text format, with its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
