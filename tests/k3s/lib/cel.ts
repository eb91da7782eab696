/**
 * Evaluating the MutatingAdmissionPolicy's CEL here, without an API server: @marcbachmann/cel-js runs
 * standard CEL; the Kubernetes-only parts are translated first — apply-configuration and JSONPatch
 * message construction (`Object.spec{name: x}`, `JSONPatch{op: …}`) becomes a map literal with the same
 * fields, and `jsonpatch.escapeKey` a registered function with Kubernetes' semantics (~ → ~0, / → ~1).
 * The result is the apply configuration / patch list as plain objects.
 */
import { Environment } from '@marcbachmann/cel-js';

export function translateK8sCel(expr: string): string {
  return expr
    .replace(/\bjsonpatch\.escapeKey\(/g, 'escapeKey(')
    .replace(/\b[A-Z]\w*(?:\.\w+)*\s*\{/g, '{')
    .replace(/([{,]\s*)([a-zA-Z_]\w*)\s*:/g, '$1"$2":');
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Evaluates a (translated) Kubernetes CEL expression with `object` and `variables` bound. */
export function evalK8sCel(expr: string, vars: { object: unknown; variables?: Record<string, unknown> }): unknown {
  const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
    .registerVariable('object', 'map')
    .registerVariable('variables', 'map')
    .registerFunction('escapeKey(string): string', (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1'));
  return plain(env.evaluate(translateK8sCel(expr), { object: vars.object, variables: vars.variables ?? {} }));
}
