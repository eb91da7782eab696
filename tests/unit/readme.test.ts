import t from 'tap';
import { readFile } from 'node:fs/promises';
import { withSettings } from '../../local-tools/readme-settings.js';
import { describeSettings } from '../../shared/config/index.js';

t.test('README starts with the two commands and lists every setting', async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const head = readme.split('\n').slice(0, 8).join('\n');
  t.match(head, /npm run demo/);
  t.match(head, /npm test/);
  t.equal(withSettings(readme), readme, 'settings table is up to date (npx tsx local-tools/readme-settings.ts)');
  for (const d of describeSettings()) t.ok(readme.includes(`| \`${d.env}\` |`), `${d.env} documented`);
});
