/**
 * Reads an OpenFaaS stack file (faas-cli v1.0 schema) the way faas-cli does: `${VAR}`,
 * `${VAR:-default}` and `${VAR-default}` are substituted from the environment before the YAML is
 * parsed. Only the fields the local gateway uses are typed.
 */
import path from 'node:path';
import { parse } from 'yaml';

export interface StackFunction {
  name: string;
  lang: string;
  /** Absolute path of the handler folder. */
  handlerDir: string;
  image: string;
  environment: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Set when the function is a cron-connector target (annotation topic contains cron-function). */
  schedule?: string;
}

export interface Stack {
  version: string;
  functions: StackFunction[];
  /** configuration.copy: extra paths faas-cli copies into each build context. */
  copy: string[];
}

export class StackError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'StackError';
  }
}

/** faas-cli's envsubst: `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}` (when unset). */
export function substituteEnv(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (_m, name: string, op: string | undefined, def: string | undefined) => {
    const v = env[name];
    if (op === ':-') return v === undefined || v === '' ? (def ?? '') : v;
    if (op === '-') return v === undefined ? (def ?? '') : v;
    return v ?? '';
  });
}

function stringMap(file: string, where: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new StackError(file, `${where} must be a mapping`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || typeof v === 'object') throw new StackError(file, `${where}.${k} must be a scalar`);
    out[k] = String(v);
  }
  return out;
}

/** Parses stack YAML text; handler folders are resolved against `baseDir` (the stack file's folder). */
export function parseStack(text: string, opts: { file?: string; baseDir: string; env?: Record<string, string | undefined> }): Stack {
  const file = opts.file ?? 'stack.yml';
  let doc: unknown;
  try {
    doc = parse(substituteEnv(text, opts.env ?? {}));
  } catch (err) {
    throw new StackError(file, `not valid YAML: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new StackError(file, 'is empty');
  const root = doc as Record<string, unknown>;
  const fns = root.functions;
  if (!fns || typeof fns !== 'object' || Array.isArray(fns)) throw new StackError(file, 'has no functions mapping');
  const functions: StackFunction[] = [];
  for (const [name, raw] of Object.entries(fns as Record<string, unknown>)) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) throw new StackError(file, `function name ${JSON.stringify(name)} is not a valid OpenFaaS name`);
    if (!raw || typeof raw !== 'object') throw new StackError(file, `functions.${name} must be a mapping`);
    const f = raw as Record<string, unknown>;
    for (const key of ['lang', 'handler', 'image'] as const) {
      if (typeof f[key] !== 'string' || f[key] === '') throw new StackError(file, `functions.${name}.${key} is missing`);
    }
    const annotations = stringMap(file, `functions.${name}.annotations`, f.annotations);
    const topics = (annotations.topic ?? '').split(',').map((s) => s.trim());
    const isCron = topics.includes('cron-function');
    if (isCron && !annotations.schedule) throw new StackError(file, `functions.${name} has topic cron-function but no schedule annotation`);
    functions.push({
      name,
      lang: f.lang as string,
      handlerDir: path.resolve(opts.baseDir, f.handler as string),
      image: f.image as string,
      environment: stringMap(file, `functions.${name}.environment`, f.environment),
      labels: stringMap(file, `functions.${name}.labels`, f.labels),
      annotations,
      schedule: isCron ? annotations.schedule : undefined,
    });
  }
  const configuration = (root.configuration ?? {}) as { copy?: unknown };
  const copy = Array.isArray(configuration.copy) ? configuration.copy.map(String) : [];
  return { version: String(root.version ?? ''), functions, copy };
}
