import { access } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { FunctionModule } from '../../shared/function-contract.js';

/** Imports a handler module and checks that it default-exports a function. */
export async function loadFunctionModule(file: string): Promise<FunctionModule> {
  const mod = (await import(pathToFileURL(file).href)) as Partial<FunctionModule>;
  if (typeof mod.default !== 'function') {
    throw new Error(`${file} does not default-export a handler function`);
  }
  return mod as FunctionModule;
}

/** The first of `candidates` that exists, or undefined. */
export async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const file of candidates) {
    try {
      await access(file);
      return file;
    } catch {
      // try the next one
    }
  }
  return undefined;
}
