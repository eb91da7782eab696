/**
 * Structured JSON-lines logger (one object per line on stderr), with named children such as
 * `ingest:ws` or `fn:flush`. Errors are serialised with their code and cause; keys that look like
 * secrets are redacted.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET = /pass(word)?|secret|token|authorization|api[-_]?key/i;

export interface Logger {
  debug(fields: object | string, msg?: string): void;
  info(fields: object | string, msg?: string): void;
  warn(fields: object | string, msg?: string): void;
  error(fields: object | string, msg?: string): void;
  child(name: string): Logger;
  readonly level: LogLevel;
}

/** Turns an Error (and its causes) into plain JSON-safe fields. */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < 5) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) out[k] = serializeError(v);
    else if (SECRET.test(k)) out[k] = '[redacted]';
    else if (typeof v === 'string' && /^rediss?:\/\/[^@]*:[^@]*@/.test(v)) out[k] = v.replace(/\/\/[^@]*@/, '//[redacted]@');
    else out[k] = v;
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stderr. Tests pass an array-backed writer. */
  write?: (line: string) => void;
}

export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (lvl: Exclude<LogLevel, 'silent'>, fields: object | string, msg?: string) => {
    if (RANK[lvl] < RANK[level]) return;
    const base = typeof fields === 'string' ? { msg: fields } : { ...redact(fields as Record<string, unknown>), msg };
    write(JSON.stringify({ level: lvl, time: new Date().toISOString(), name, ...base }));
  };
  return {
    level,
    debug: (f, m) => emit('debug', f, m),
    info: (f, m) => emit('info', f, m),
    warn: (f, m) => emit('warn', f, m),
    error: (f, m) => emit('error', f, m),
    child: (sub) => createLogger(`${name}:${sub}`, { level, write }),
  };
}
