import { readFile } from 'node:fs/promises';
import tap from 'tap';
import { schemaMarkdown, withSchema } from '../../local-tools/print-schema.js';

tap.test('the schema section of functions/flush/README.md is generated from shared/tables and up to date', async (t) => {
  const text = await readFile(new URL('../../functions/flush/README.md', import.meta.url), 'utf8');
  t.equal(withSchema(text), text, 'run npx tsx local-tools/print-schema.ts --write');
  const md = schemaMarkdown();
  t.match(md, /#### `post_features`/);
  t.match(md, /\| `political_score` \| DOUBLE \| .*feature, range \[0, 1\]/);
});
