/**
 * The image build without Docker: lays out build/<fn>/ the way `faas-cli build` does (template folder,
 * handler folder overlaid in function/, stack.yml `configuration.copy` paths inside function/), replays
 * the Dockerfile's file moves, compiles with the image's tsconfig, and serves the compiled handler.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ROOT, spawnFunction } from './spawn-function.js';

const run = promisify(execFile);
const TEMPLATE = path.join(ROOT, 'template/node20-express');

const PROBE = `import { BadRequestError } from '../../shared/errors.js';
import type { FunctionEvent } from '../../shared/function-contract.js';
import { greeting } from './lib/greeting.js';
import data from './data.json' with { type: 'json' };

export default async function handler(event: FunctionEvent) {
  if (event.path === '/bad') throw new BadRequestError('bad_probe', 'probe says no', 'p');
  return { greeting: greeting(), data };
}
`;

t.test('faas-cli build context → Dockerfile steps → compiled function answers', async (t) => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bsky-buildctx-'));
  t.teardown(() => rm(tmp, { recursive: true, force: true }));

  // A function folder shaped like functions/<name>/ (imports ../../shared/…, a helper, a JSON asset).
  const handlerDir = path.join(tmp, 'functions/probe');
  await mkdir(path.join(handlerDir, 'lib'), { recursive: true });
  await writeFile(path.join(handlerDir, 'handler.ts'), PROBE);
  await writeFile(path.join(handlerDir, 'lib/greeting.ts'), "export const greeting = () => 'hello from the image';\n");
  await writeFile(path.join(handlerDir, 'data.json'), '{"answer":42}\n');

  // faas-cli: copy template/<lang> → build/<fn>/, overlay the handler in function/, then copy extras.
  const stack = parse(await readFile(path.join(ROOT, 'stack.yml'), 'utf8')) as { configuration: { copy: string[] } };
  const ctx = path.join(tmp, 'build/probe');
  await cp(TEMPLATE, ctx, { recursive: true });
  await mkdir(path.join(ctx, 'function'), { recursive: true });
  for (const entry of await readdir(handlerDir)) await cp(path.join(handlerDir, entry), path.join(ctx, 'function', entry), { recursive: true });
  for (const extra of stack.configuration.copy) await cp(path.join(ROOT, extra), path.join(ctx, 'function', extra), { recursive: true });

  // The Dockerfile's build stage, step by step (npm ci replaced by the repository's node_modules).
  const dockerfile = await readFile(path.join(ctx, 'Dockerfile'), 'utf8');
  for (const line of [
    'COPY function/package.json function/package-lock.json ./',
    'COPY function/ ./functions/handler/',
    'mv functions/handler/shared ./shared',
    'COPY *.ts ./template/node20-express/',
    'COPY tsconfig.image.json ./tsconfig.json',
    'RUN npx tsc -p tsconfig.json',
    'USER node',
    'CMD ["node", "--enable-source-maps", "template/node20-express/index.js"]',
  ]) {
    t.ok(dockerfile.includes(line), `Dockerfile: ${line}`);
  }
  const app = path.join(tmp, 'app');
  await mkdir(path.join(app, 'template/node20-express'), { recursive: true });
  await cp(path.join(ctx, 'function/package.json'), path.join(app, 'package.json'));
  await cp(path.join(ctx, 'function/package-lock.json'), path.join(app, 'package-lock.json'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'), 'dir');
  await cp(path.join(ctx, 'function'), path.join(app, 'functions/handler'), { recursive: true });
  await rename(path.join(app, 'functions/handler/shared'), path.join(app, 'shared'));
  await rm(path.join(app, 'functions/handler/package.json'));
  await rm(path.join(app, 'functions/handler/package-lock.json'));
  for (const f of await readdir(ctx)) if (f.endsWith('.ts')) await cp(path.join(ctx, f), path.join(app, 'template/node20-express', f));
  await cp(path.join(ctx, 'tsconfig.image.json'), path.join(app, 'tsconfig.json'));
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const built = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err), failed: true }));
  t.notOk('failed' in built, `tsc compiles the image layout${'failed' in built ? ':\n' + built.stdout : ''}`);
  // find functions shared -type f ! -name '*.ts' -exec cp --parents {} dist/
  await cp(path.join(app, 'functions/handler/data.json'), path.join(app, 'dist/functions/handler/data.json'));

  // The runtime stage: package.json, node_modules and dist/ at the top of /home/app.
  const runtime = path.join(tmp, 'runtime');
  await cp(path.join(app, 'dist'), runtime, { recursive: true });
  await cp(path.join(app, 'package.json'), path.join(runtime, 'package.json'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(runtime, 'node_modules'), 'dir');

  const fn = await spawnFunction(t, { FUNCTION_NAME: 'probe' }, path.join(runtime, 'template/node20-express/index.js'), runtime);
  const ok = await fetch(`${fn.url}/`);
  t.equal(ok.status, 200);
  t.same(await ok.json(), { greeting: 'hello from the image', data: { answer: 42 } });
  const bad = await fetch(`${fn.url}/bad`);
  t.equal(bad.status, 400);
  t.same(await bad.json(), { error: { code: 'bad_probe', message: 'probe says no', param: 'p' } });
  fn.child.kill('SIGTERM');
  t.equal((await fn.exited).code, 0);
});
