import { Type } from '@sinclair/typebox';
import type { EnvReader } from '../env-reader.js';

const DURATION = Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*$' });
const DURATION_EXPECTS = 'a duration such as 500ms, 30s, 15m or 1h (a bare number is seconds)';

/**
 * Milliseconds in a watchdog-style duration: `30s`, `15m`, `1h`, `500ms`, or a bare number of
 * seconds (what the OpenFaaS watchdog accepts for exec_timeout/read_timeout/write_timeout).
 */
export function parseDurationMs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000;
  return Math.round(n * factor);
}

/** Process-wide settings: logging, the function template's HTTP server, and the local gateway. */
export function readRuntime(r: EnvReader) {
  const duration = (name: string, def: string, doc: string) =>
    parseDurationMs(r.str(name, { default: def, schema: DURATION, expects: DURATION_EXPECTS, doc }));
  const writeTimeoutMs = duration('write_timeout', '0', 'Function template: OpenFaaS watchdog variable; the default shutdown grace period when SHUTDOWN_GRACE is unset (0 = 30s).');
  const grace = r.str('SHUTDOWN_GRACE', { default: '', schema: Type.Union([Type.Literal(''), DURATION]), expects: DURATION_EXPECTS, doc: 'Function template and gateway: how long SIGTERM waits for in-flight requests before aborting them (default: write_timeout, else 30s).' });
  return {
    logLevel: r.oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, { default: 'info', doc: 'Least severe log level written.' }),
    gatewayPort: r.int('GATEWAY_PORT', { default: '8080', min: 0, max: 65535, doc: 'Port of the local gateway (npm start).' }),
    fn: {
      /** Name used in logs and metric labels. */
      name: r.str('FUNCTION_NAME', { default: 'function', schema: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), expects: 'a lowercase function name', doc: 'Function template: the function name used in logs and metric labels.' }),
      /** Handler module to load; empty = the image layout's `functions/handler/handler.js`. */
      handler: r.str('FUNCTION_HANDLER', { default: '', doc: "Function template: path of the handler module (default: the image's functions/handler/handler.js)." }),
      /** Written once listening, removed on SIGTERM: faas-netes' exec probe (`cat /tmp/.lock`) when HTTP probes are off. */
      lockFile: r.str('FUNCTION_LOCK_FILE', { default: '', doc: 'Function template: file created once listening and removed on SIGTERM (the image sets /tmp/.lock for exec health probes; empty = none).' }),
      port: r.int('FUNCTION_PORT', { default: '8080', min: 0, max: 65535, doc: 'Function template: HTTP port the function listens on (OpenFaaS expects 8080).' }),
      maxBodyBytes: r.int('FUNCTION_MAX_BODY_BYTES', { default: '1048576', min: 0, doc: 'Function template: largest request body accepted (bytes); larger ones get 413.' }),
      execTimeoutMs: duration('exec_timeout', '0', 'Function template: OpenFaaS watchdog variable; a request still running after this is aborted (0 = no limit).'),
      readTimeoutMs: duration('read_timeout', '0', 'Function template: OpenFaaS watchdog variable; time allowed to receive a whole request (0 = Node default).'),
      writeTimeoutMs,
      shutdownGraceMs: grace ? parseDurationMs(grace) : writeTimeoutMs > 0 ? writeTimeoutMs : 30_000,
    },
  };
}
