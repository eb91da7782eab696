import type { EnvReader } from '../env-reader.js';

/** Process-wide settings: logging and the local gateway. */
export function readRuntime(r: EnvReader) {
  return {
    logLevel: r.oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, { default: 'info', doc: 'Least severe log level written.' }),
    gatewayPort: r.int('GATEWAY_PORT', { default: '8080', min: 0, max: 65535, doc: 'Port of the local gateway (npm start).' }),
  };
}
