import { counter, gauge, histogram } from '../../shared/metrics.js';

/** Per-function HTTP metrics, shared by every function served from one process (label `function`). */
export function functionMetrics() {
  return {
    requests: counter({
      name: 'function_requests_total',
      help: 'Requests answered by a function, by HTTP status code.',
      labelNames: ['function', 'code'] as const,
    }),
    duration: histogram({
      name: 'function_request_duration_seconds',
      help: 'Time from request to the last byte of the answer.',
      labelNames: ['function', 'code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    }),
    inFlight: gauge({
      name: 'function_requests_in_flight',
      help: 'Requests a function is working on now.',
      labelNames: ['function'] as const,
    }),
  };
}
