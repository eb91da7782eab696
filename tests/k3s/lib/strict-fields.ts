/**
 * Unknown-field check for Kubernetes objects. kubernetes-models' validators accept unknown keys
 * (a misspelt `redinessProbe` passes), so this walks an object beside the field lists read from the
 * package's own type declarations (`export interface IX { "field"?: Type }`) and reports every key
 * the API does not have — what `kubectl apply` (strict field validation) would reject.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const modelsRoot = path.dirname(require.resolve('kubernetes-models/package.json'));
const apimachineryRoot = path.dirname(require.resolve('@kubernetes-models/apimachinery/package.json', { paths: [modelsRoot] }));

interface Field {
  /** The referenced interface's file, or undefined for a scalar, map or alias. */
  file?: string;
  array: boolean;
}
type Shape = Map<string, Field> | null;

const cache = new Map<string, Shape>();

function resolveImport(fromFile: string, spec: string): string {
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), spec + '.d.ts');
  const prefix = '@kubernetes-models/apimachinery/';
  if (spec.startsWith(prefix)) return path.join(apimachineryRoot, spec.slice(prefix.length) + '.d.ts');
  return '';
}

/** The fields of the first interface declared in a .d.ts file (null when it declares none). */
function shapeOf(file: string): Shape {
  const hit = cache.get(file);
  if (hit !== undefined) return hit;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    cache.set(file, null);
    return null;
  }
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports.set(m[1]!, resolveImport(file, m[2]!));
  const start = text.search(/export interface I\w+(?: extends [\w, ]+)? \{/);
  if (start < 0) {
    cache.set(file, null);
    return null;
  }
  // The interface body: up to the first line that closes it at column 0.
  const body = text.slice(start, text.indexOf('\n}', start));
  const shape = new Map<string, Field>();
  for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
    const type = m[2]!;
    const array = /^Array<\w+>$/.test(type);
    const ref = /^(?:Array<)?(I\w+)>?$/.exec(type)?.[1];
    shape.set(m[1]!, { file: ref ? imports.get(ref) || undefined : undefined, array });
  }
  if (/extends TypeMeta/.test(body)) {
    shape.set('apiVersion', { array: false });
    shape.set('kind', { array: false });
  }
  cache.set(file, shape);
  return shape;
}

/** The .d.ts file of a top-level kind, e.g. ('apps/v1', 'Deployment'). */
export function kindFile(apiVersion: string, kind: string): string {
  return path.join(modelsRoot, apiVersion, kind + '.d.ts');
}

/** Paths of keys not in the API schema, e.g. `spec.template.spec.containers[0].redinessProbe`. */
export function unknownFields(value: unknown, file: string, at = ''): string[] {
  const shape = shapeOf(file);
  if (!shape || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const field = shape.get(key);
    const here = at ? `${at}.${key}` : key;
    if (!field) {
      out.push(here);
      continue;
    }
    if (!field.file) continue;
    if (field.array && Array.isArray(child)) child.forEach((c, i) => out.push(...unknownFields(c, field.file!, `${here}[${i}]`)));
    else out.push(...unknownFields(child, field.file, here));
  }
  return out;
}
