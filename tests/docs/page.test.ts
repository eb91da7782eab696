/**
 * The interactive documentation page in headless Chromium (Debian's chromium; skipped with a clear
 * message only when it is not installed): a gateway-like server mounts docs, search, export and enrich
 * over a Parquet tree with known posts; the page renders a form per function from the OpenAPI document and
 * its "Try it" buttons send real requests whose answers it shows.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { chromium, type Browser } from 'playwright-core';
import { API_ROUTES } from '../../shared/api/routes.js';
import { postRow, uriOf, writeRows } from '../api/fixture.js';
import { makeTestEnv } from '../helpers/env.js';
import { serveStack } from '../enrich/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DID = 'did:plc:docspagetestauthor00000';
const u = (k: number) => uriOf(DID, `3ldocs${k}`);

t.test('docs page in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)` }, async (t) => {
  const env = await makeTestEnv(t);
  await writeRows(env.cfg.storage.parquetDir, 'posts', [
    postRow({ did: DID, rkey: '3ldocs1', text: 'Total solar eclipse today!', at: '2026-07-01T10:00:00Z', langs: ['en'] }),
    postRow({ did: DID, rkey: '3ldocs2', text: 'the eclipse, seen from Lisbon', at: '2026-07-01T11:00:00Z', langs: ['en'] }),
    postRow({ did: DID, rkey: '3ldocs3', text: 'nothing to see here', at: '2026-07-01T12:00:00Z', langs: ['en'] }),
  ]);
  const stack = await serveStack(t, env, ['docs', 'search', 'export', 'counts', 'enrich']);

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  /** Waits until the element's text contains `part` (the page answers asynchronously). */
  const waitText = (selector: string, part: string) =>
    page.waitForFunction(`(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '').includes(${JSON.stringify(part)})`);

  await page.goto(`${stack.base}/function/docs`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });

  // A section with a form and a Try-it button for every registered route; a field per query parameter.
  for (const route of API_ROUTES) {
    const section = page.getByTestId(`op-${route.name}`);
    t.equal(await section.count(), 1, `${route.name} rendered`);
    t.equal(await page.getByTestId(`try-${route.name}`).count(), 1);
    const fields = await section.locator('[data-param]').evaluateAll((els) => els.map((e) => e.getAttribute('data-param')));
    t.same(fields, Object.keys(route.query.properties), `${route.name}: one field per parameter`);
  }
  t.same(await page.locator('#op-search select[name=sort] option').allTextContents(), ['(default)', 'newest', 'oldest']);

  // search: text filter, newest first.
  await page.fill('#search-text', 'eclipse');
  await page.fill('#search-limit', '10');
  await page.getByTestId('try-search').click();
  const searchBody = page.getByTestId('body-search');
  await searchBody.waitFor({ state: 'visible' });
  await waitText('[data-testid="body-search"]', '"data"');
  const answer = JSON.parse((await searchBody.textContent()) ?? '');
  t.same(
    answer.data.map((p: any) => p.uri),
    [u(2), u(1)],
  );
  t.match(await page.locator('#op-search .status').textContent(), /^200/);
  t.match(await page.locator('#op-search .url').textContent(), /^GET \/function\/search\?text=eclipse&limit=10$/);

  // A bad parameter shows the 400 error body.
  await page.fill('#search-start', 'yesterday');
  await page.getByTestId('try-search').click();
  await waitText('#op-search .status', '400 ');
  t.match(await searchBody.textContent(), /"code": "invalid_parameter"|"code": "invalid_date"/);

  // export as CSV: the CSV text is shown as is.
  await page.fill('#export-text', 'lisbon');
  await page.selectOption('#export-format', 'csv');
  await page.getByTestId('try-export').click();
  await waitText('[data-testid="body-export"]', 'uri,');
  const csv = (await page.getByTestId('body-export').textContent()) ?? '';
  t.match(csv, /^uri,cid,author_did,author_handle,text,/);
  t.equal(csv.trim().split('\n').length, 2, 'header + one post');
  t.ok(csv.includes(`"${u(2)}"`));

  // enrich (POST with a body): scores for the two eclipse posts, then a feature search shows them.
  await page.fill('#enrich-body', [`{"uri":"${u(1)}","toxicity_score":0.9}`, `{"uri":"${u(2)}","toxicity_score":0.1}`, '{"uri":"bad"}'].join('\n'));
  await page.getByTestId('try-enrich').click();
  await waitText('[data-testid="body-enrich"]', 'accepted');
  const imported = JSON.parse((await page.getByTestId('body-enrich').textContent()) ?? '');
  t.same([imported.accepted, imported.rejected], [2, 1]);

  await page.fill('#search-start', '');
  await page.fill('#search-text', '');
  await page.fill('#search-feature_filters', 'toxicity_score>=0.8');
  await page.getByTestId('try-search').click();
  await waitText('[data-testid="body-search"]', 'toxicity_score');
  t.same(
    JSON.parse((await searchBody.textContent()) ?? '').data.map((p: any) => p.uri),
    [u(1)],
  );

  await page.screenshot({ path: path.join(os.tmpdir(), 'bsky-docs-page.png'), fullPage: false });
  // The one failed resource is the deliberate 400 above.
  t.same(consoleErrors, ['Failed to load resource: the server responded with a status of 400 (Bad Request)'], 'no script errors');
});
