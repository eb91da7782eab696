import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** One environment variable the configuration reads: the README's settings table is built from these. */
export interface SettingDoc {
  env: string;
  default: string;
  expects: string;
  doc: string;
}

/** A setting that failed validation; all of them are reported together at boot. */
export interface SettingProblem {
  env: string;
  got: string;
  expects: string;
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(readonly problems: SettingProblem[]) {
    super(
      'invalid configuration:\n' +
        problems.map((p) => `  ${p.env}=${JSON.stringify(p.got)}: expected ${p.expects}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

interface Spec<T> {
  /** Text written in the environment when the variable is unset (shown in the README). */
  default: string;
  doc: string;
  /** Optional extra constraint checked with typebox after conversion. */
  schema?: TSchema;
  expects?: string;
}

/**
 * Reads typed settings from an environment, once. Every read is validated with a typebox schema and
 * recorded, so a bad value is reported with its variable name and what was expected, and the list of
 * settings documents itself. Nothing outside shared/config reads process.env.
 */
export class EnvReader {
  readonly problems: SettingProblem[] = [];
  readonly docs: SettingDoc[] = [];

  constructor(private readonly env: Record<string, string | undefined>) {}

  private raw(name: string, spec: Spec<unknown>, expects: string): string {
    if (!this.docs.some((d) => d.env === name)) {
      this.docs.push({ env: name, default: spec.default, expects, doc: spec.doc });
    }
    const v = this.env[name];
    return v === undefined || v === '' ? spec.default : v;
  }

  private check<T>(name: string, got: string, value: unknown, schema: TSchema, expects: string): T | undefined {
    if (!Value.Check(schema, value)) {
      this.problems.push({ env: name, got, expects });
      return undefined;
    }
    return value as T;
  }

  /** A string; `schema` may add a pattern or an enum. */
  str(name: string, spec: Spec<string>): string {
    const expects = spec.expects ?? 'a string';
    const got = this.raw(name, spec, expects);
    return this.check<string>(name, got, got, spec.schema ?? Type.String(), expects) ?? spec.default;
  }

  /** One of a fixed set of words. */
  oneOf<const T extends readonly string[]>(name: string, values: T, spec: Spec<T[number]>): T[number] {
    const expects = `one of ${values.join(', ')}`;
    const got = this.raw(name, spec, expects);
    const schema = Type.Union(values.map((v) => Type.Literal(v)));
    return this.check<T[number]>(name, got, got, schema, expects) ?? (spec.default as T[number]);
  }

  /** An integer within [min, max]. */
  int(name: string, spec: Spec<number> & { min?: number; max?: number }): number {
    const expects =
      spec.expects ??
      `an integer${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` <= ${spec.max}` : ''}`;
    const got = this.raw(name, spec, expects);
    const value = /^-?\d+$/.test(got.trim()) ? Number(got.trim()) : Number.NaN;
    const schema = Type.Integer({ minimum: spec.min, maximum: spec.max });
    return this.check<number>(name, got, value, schema, expects) ?? Number(spec.default);
  }

  /** A finite number within [min, max]. */
  num(name: string, spec: Spec<number> & { min?: number; max?: number }): number {
    const expects =
      spec.expects ??
      `a number${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` <= ${spec.max}` : ''}`;
    const got = this.raw(name, spec, expects);
    const value = got.trim() === '' ? Number.NaN : Number(got.trim());
    const schema = Type.Number({ minimum: spec.min, maximum: spec.max });
    return this.check<number>(name, got, Number.isFinite(value) ? value : undefined, schema, expects) ?? Number(spec.default);
  }

  /** true/false (also 1/0, yes/no, on/off). */
  bool(name: string, spec: Spec<boolean>): boolean {
    const expects = 'true or false';
    const got = this.raw(name, spec, expects);
    const map: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };
    const value = map[got.trim().toLowerCase()];
    return this.check<boolean>(name, got, value, Type.Boolean(), expects) ?? map[spec.default] === true;
  }

  /** A comma-separated list; empty entries are dropped. Each item may be checked by `schema`. */
  list(name: string, spec: Spec<string[]>): string[] {
    const expects = spec.expects ?? 'a comma-separated list';
    const got = this.raw(name, spec, expects);
    const items = got
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const schema = Type.Array(spec.schema ?? Type.String());
    return this.check<string[]>(name, got, items, schema, expects) ?? [];
  }

  /** A URL with one of the given schemes. */
  url(name: string, spec: Spec<string> & { schemes: string[] }): string {
    const expects = spec.expects ?? `a URL starting with ${spec.schemes.map((s) => s + '://').join(' or ')}`;
    const got = this.raw(name, spec, expects);
    let ok = false;
    try {
      ok = spec.schemes.includes(new URL(got).protocol.replace(/:$/, ''));
    } catch {
      ok = false;
    }
    return this.check<string>(name, got, ok ? got : undefined, Type.String(), expects) ?? spec.default;
  }

  /** Like url() but unset means "not configured". */
  optionalUrl(name: string, spec: Omit<Spec<string>, 'default'> & { schemes: string[] }): string | undefined {
    const got = this.env[name];
    if (got === undefined || got === '') {
      this.raw(name, { ...spec, default: '' }, `a URL starting with ${spec.schemes.map((s) => s + '://').join(' or ')}`);
      return undefined;
    }
    return this.url(name, { ...spec, default: '' });
  }

  /** Throws one ConfigError naming every bad variable. */
  assertValid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
